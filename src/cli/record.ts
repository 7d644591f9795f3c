import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

// Placeholder: the record command is being written; this keeps the CLI whole meanwhile.
export const recordCommand: CommandModule = {
  command: 'record',
  describe: '(record: not yet available)',
  handler: () => {
    throw new UsageError('record is not available yet');
  },
};
