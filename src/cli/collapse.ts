import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

// Placeholder: the collapse command is being written; this keeps the CLI whole meanwhile.
export const collapseCommand: CommandModule = {
  command: 'collapse',
  describe: '(collapse: not yet available)',
  handler: () => {
    throw new UsageError('collapse is not available yet');
  },
};
