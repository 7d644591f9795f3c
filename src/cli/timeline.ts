import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

// Placeholder: the timeline command is being written; this keeps the CLI whole meanwhile.
export const timelineCommand: CommandModule = {
  command: 'timeline',
  describe: '(timeline: not yet available)',
  handler: () => {
    throw new UsageError('timeline is not available yet');
  },
};
