// A small force-directed layout (no library): every pair of nodes repels (|F| ∝ 1/d),
// every link is a spring of rest length `linkDistance` (Hooke), a weak gravity pulls
// towards the centre, velocities are damped, and all forces scale with a "temperature"
// `alpha` that cools each tick, so the layout settles. O(n²) per tick: meant for the
// few hundred nodes of a neighbourhood view.

export interface SimNode {
  id: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
  /** Pinned nodes (the centre, a node being dragged or dropped) do not move. */
  fixed: boolean;
}

export interface ForceOptions {
  width: number;
  height: number;
  linkDistance?: number;
  linkStrength?: number;
  charge?: number;
  gravity?: number;
  damping?: number;
  decay?: number;
  margin?: number;
}

const DEFAULTS = {
  linkDistance: 90,
  linkStrength: 0.12,
  charge: 320,
  gravity: 0.015,
  damping: 0.55,
  decay: 0.985,
  margin: 24,
};

/** Below this temperature the layout counts as settled. */
export const ALPHA_MIN = 0.005;

export class ForceLayout {
  readonly nodes: SimNode[];
  alpha = 1;
  private readonly index = new Map<number, number>();
  private readonly links: [number, number][] = [];
  private readonly o: Required<ForceOptions>;

  /**
   * `ids`: the nodes; `links`: pairs of node ids (unknown ids and self-loops are ignored);
   * `centre`: a node pinned in the middle. Start positions lie on a sunflower spiral
   * around the centre, so the result is deterministic.
   */
  constructor(ids: number[], links: [number, number][], opts: ForceOptions, centre?: number) {
    this.o = { ...DEFAULTS, ...opts };
    const cx = this.o.width / 2;
    const cy = this.o.height / 2;
    const golden = Math.PI * (3 - Math.sqrt(5));
    let k = 0;
    this.nodes = ids.map((id, i) => {
      this.index.set(id, i);
      if (id === centre) return { id, x: cx, y: cy, vx: 0, vy: 0, fixed: true };
      const r = 40 * Math.sqrt(++k);
      return { id, x: cx + r * Math.cos(k * golden), y: cy + r * Math.sin(k * golden), vx: 0, vy: 0, fixed: false };
    });
    const seen = new Set<string>();
    for (const [a, b] of links) {
      const i = this.index.get(a);
      const j = this.index.get(b);
      if (i === undefined || j === undefined || i === j) continue;
      const key = i < j ? `${i},${j}` : `${j},${i}`;
      if (seen.has(key)) continue; // parallel relationships pull once
      seen.add(key);
      this.links.push([i, j]);
    }
  }

  node(id: number): SimNode | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.nodes[i];
  }

  get settled(): boolean {
    return this.alpha < ALPHA_MIN;
  }

  /** One integration step. */
  tick(): void {
    const { charge, linkDistance, linkStrength, gravity, damping, decay, width, height, margin } = this.o;
    const ns = this.nodes;
    const a = this.alpha;
    // Repulsion between every pair.
    for (let i = 0; i < ns.length; i++) {
      for (let j = i + 1; j < ns.length; j++) {
        const p = ns[i];
        const q = ns[j];
        let dx = q.x - p.x;
        let dy = q.y - p.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 1e-6) {
          // Coincident nodes: push apart in a direction that depends on the pair.
          dx = Math.cos(i + j * 7);
          dy = Math.sin(i + j * 7);
          d2 = 1;
        }
        d2 = Math.max(d2, 100);
        const f = (charge * a) / d2; // |F| = charge·alpha / d
        p.vx -= dx * f;
        p.vy -= dy * f;
        q.vx += dx * f;
        q.vy += dy * f;
      }
    }
    // Springs along links.
    for (const [i, j] of this.links) {
      const p = ns[i];
      const q = ns[j];
      const dx = q.x - p.x;
      const dy = q.y - p.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 1;
      const k = ((d - linkDistance) / d) * linkStrength * a;
      p.vx += dx * k;
      p.vy += dy * k;
      q.vx -= dx * k;
      q.vy -= dy * k;
    }
    // Gravity, damping, integration, walls.
    const cx = width / 2;
    const cy = height / 2;
    for (const n of ns) {
      if (n.fixed) {
        n.vx = n.vy = 0;
        continue;
      }
      n.vx = (n.vx + (cx - n.x) * gravity * a) * damping;
      n.vy = (n.vy + (cy - n.y) * gravity * a) * damping;
      n.x = Math.min(width - margin, Math.max(margin, n.x + n.vx));
      n.y = Math.min(height - margin, Math.max(margin, n.y + n.vy));
    }
    this.alpha *= decay;
  }

  /** Ticks until settled or `max` ticks. */
  run(max = 400): void {
    for (let i = 0; i < max && !this.settled; i++) this.tick();
  }

  /** Pins a node at (x, y), clamped into the frame. */
  pin(id: number, x: number, y: number): void {
    const n = this.node(id);
    if (!n) return;
    const { width, height, margin } = this.o;
    n.x = Math.min(width - margin, Math.max(margin, x));
    n.y = Math.min(height - margin, Math.max(margin, y));
    n.fixed = true;
  }

  /** Warms the layout up again (after a drag) so the others make room. */
  reheat(alpha = 0.3): void {
    this.alpha = Math.max(this.alpha, alpha);
  }
}
