import { describe, expect, it } from 'vitest';
import { ForceLayout } from './force';

const dist = (l: ForceLayout, a: number, b: number) => {
  const p = l.node(a)!;
  const q = l.node(b)!;
  return Math.hypot(p.x - q.x, p.y - q.y);
};

describe('ForceLayout', () => {
  const frame = { width: 800, height: 500 };

  it('settles, keeps the centre pinned and every node inside the frame', () => {
    const ids = Array.from({ length: 30 }, (_, i) => i + 1);
    const links = ids.slice(1).map((id): [number, number] => [1, id]);
    const l = new ForceLayout(ids, links, frame, 1);
    l.run(2000);
    expect(l.settled).toBe(true);
    expect(l.node(1)).toMatchObject({ x: 400, y: 250, fixed: true });
    for (const n of l.nodes) {
      expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true);
      expect(n.x).toBeGreaterThanOrEqual(24);
      expect(n.x).toBeLessThanOrEqual(776);
      expect(n.y).toBeGreaterThanOrEqual(24);
      expect(n.y).toBeLessThanOrEqual(476);
    }
  });

  it('pulls linked nodes together and pushes unlinked ones apart', () => {
    // Two triangles joined by one link.
    const links: [number, number][] = [
      [1, 2], [2, 3], [3, 1],
      [4, 5], [5, 6], [6, 4],
      [3, 4],
    ];
    const l = new ForceLayout([1, 2, 3, 4, 5, 6], links, frame);
    l.run(2000);
    expect(dist(l, 1, 2)).toBeLessThan(dist(l, 1, 6));
    expect(dist(l, 5, 6)).toBeLessThan(dist(l, 2, 5));
    // Nobody sits on top of anybody.
    for (const p of l.nodes) for (const q of l.nodes) if (p !== q) expect(dist(l, p.id, q.id)).toBeGreaterThan(10);
  });

  it('survives coincident nodes, unknown link ends and self-loops', () => {
    const l = new ForceLayout([1, 2], [[1, 1], [1, 99], [1, 2], [2, 1]], frame);
    l.nodes[1].x = l.nodes[0].x;
    l.nodes[1].y = l.nodes[0].y;
    l.run(500);
    expect(dist(l, 1, 2)).toBeGreaterThan(10);
  });

  it('is deterministic, and pinned nodes stay where they were dropped', () => {
    const make = () => new ForceLayout([1, 2, 3, 4], [[1, 2], [2, 3], [3, 4]], frame, 1);
    const a = make();
    const b = make();
    a.run();
    b.run();
    expect(a.nodes).toEqual(b.nodes);
    a.pin(4, 10_000, 30);
    a.reheat();
    expect(a.settled).toBe(false);
    a.run();
    expect(a.node(4)).toMatchObject({ x: 776, y: 30, fixed: true });
  });
});
