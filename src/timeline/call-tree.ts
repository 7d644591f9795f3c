/**
 * The lifecycle page's one call tree: CPU samples and off-CPU stacks merged, frame names interned with their
 * colours. Nodes are created parent before child (`nodeParent[i] < i`), so the browser sums a range's
 * weights in one backward pass. A name is interned under a key: CPU frames by their own name, off-CPU
 * frames by name and reason, so the same function blocked for two reasons is two frames of two colours.
 */
import { FrameColors } from '../flamegraph/color.js';
import { displayName } from '../flamegraph/xml.js';

export class PageCallTree {
  readonly names: string[] = ['all'];
  readonly colors: string[] = ['rgb(250,250,250)'];
  /** Per name: index of its off-CPU reason in BLOCK_REASONS, or -1 for CPU frames. */
  readonly nameReason: number[] = [-1];
  readonly nodeParent: number[] = [-1];
  readonly nodeName: number[] = [0];
  maxDepth = 0;
  private readonly nameIds = new Map<string, number>([['\u0000all', 0]]);
  private readonly childIds = new Map<string, number>();
  private readonly leafOfKey = new Map<string, number>();
  private readonly cpuColors = new FrameColors({ colors: 'kind', hash: false, random: false, negate: false }, 0, undefined);

  /** The name id of a frame; `key` tells apart frames that share a name but not a colour. */
  nameId(latin1: string, key: string = latin1, color?: (shown: string) => string, reason = -1): number {
    let id = this.nameIds.get(key);
    if (id === undefined) {
      id = this.names.length;
      this.nameIds.set(key, id);
      const shown = displayName(latin1);
      this.names.push(shown);
      this.colors.push(color ? color(shown) : this.cpuColors.color(shown, undefined));
      this.nameReason.push(reason);
    }
    return id;
  }

  /** The leaf node of a CPU sample's folded stack (`root;…;leaf`). */
  cpuLeaf(stack: string): number {
    let leaf = this.leafOfKey.get(stack);
    if (leaf === undefined) {
      leaf = this.leafOfNames(stack.split(';').map((frame) => this.nameId(frame)));
      this.leafOfKey.set(stack, leaf);
    }
    return leaf;
  }

  /** The leaf node of a path of name ids, root first (creating the nodes it lacks). */
  leafOfNames(nameIds: readonly number[]): number {
    let node = 0;
    for (const name of nameIds) {
      const key = `${node}:${name}`;
      let child = this.childIds.get(key);
      if (child === undefined) {
        child = this.nodeParent.length;
        this.nodeParent.push(node);
        this.nodeName.push(name);
        this.childIds.set(key, child);
      }
      node = child;
    }
    if (nameIds.length > this.maxDepth) this.maxDepth = nameIds.length;
    return node;
  }
}
