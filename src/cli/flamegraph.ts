import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

// Placeholder: the flamegraph command is being written; this keeps the CLI whole meanwhile.
export const flamegraphCommand: CommandModule = {
  command: 'flamegraph',
  describe: '(flamegraph: not yet available)',
  handler: () => {
    throw new UsageError('flamegraph is not available yet');
  },
};
