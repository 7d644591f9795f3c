import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

// Placeholder: the diff command is being written; this keeps the CLI whole meanwhile.
export const diffCommand: CommandModule = {
  command: 'diff',
  describe: '(diff: not yet available)',
  handler: () => {
    throw new UsageError('diff is not available yet');
  },
};
