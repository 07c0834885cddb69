import { useEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { getNeighbourhood, type Ci, type GraphEdge } from '../../cmdb-api';
import { typeColour } from '../../graph/colours';
import { ForceLayout } from '../../graph/force';
import { navigate, usePolling } from '../../hooks';
import { ErrorBox } from '../common';

const W = 960;
const H = 520;
const R = 9; // node radius (the centre: R + 4)
const NODE_LIMIT = 200;

/** Edges carry no id on the real server: from, type and to identify them. */
const edgeKey = (e: GraphEdge) => `${e.from_id}-${e.type}-${e.to_id}`;

interface Drag {
  id: number;
  x0: number;
  y0: number;
  moved: boolean;
}

/** The CI's neighbourhood as an SVG graph: click a node to open it, drag to rearrange. */
export function NeighbourhoodGraph({ ci }: { ci: Ci }) {
  const [depth, setDepth] = useState(2);
  const nb = usePolling((signal) => getNeighbourhood(ci.id, depth, NODE_LIMIT, signal), () => null, [ci.id, depth]);
  const data = nb.data;

  const nodes = useMemo(() => {
    if (!data) return [];
    const m = new Map<number, Ci>(data.nodes.map((n) => [n.id, n]));
    if (!m.has(data.ci.id)) m.set(data.ci.id, data.ci);
    return [...m.values()];
  }, [data]);
  const layout = useMemo(() => {
    const l = new ForceLayout(
      nodes.map((n) => n.id),
      (data?.edges ?? []).map((e): [number, number] => [e.from_id, e.to_id]),
      { width: W, height: H },
      ci.id,
    );
    l.run(600);
    return l;
  }, [nodes, data, ci.id]);

  // Zoom to the laid-out nodes (labels included), at most 1.6×; fixed while dragging.
  const viewBox = useMemo(() => {
    if (layout.nodes.length === 0) return `0 0 ${W} ${H}`;
    const xs = layout.nodes.map((n) => n.x);
    const ys = layout.nodes.map((n) => n.y);
    const [x0, x1] = [Math.min(...xs) - 70, Math.max(...xs) + 70];
    const [y0, y1] = [Math.min(...ys) - 30, Math.max(...ys) + 40];
    const scale = Math.max((x1 - x0) / W, (y1 - y0) / H, 1 / 1.6);
    const [w, h] = [W * scale, H * scale];
    return `${((x0 + x1 - w) / 2).toFixed(1)} ${((y0 + y1 - h) / 2).toFixed(1)} ${w.toFixed(1)} ${h.toFixed(1)}`;
  }, [layout]);

  const [, setFrame] = useState(0);
  const [hoverNode, setHoverNode] = useState<number | null>(null);
  const [hoverEdge, setHoverEdge] = useState<string | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const drag = useRef<Drag | null>(null);
  const raf = useRef(0);

  useEffect(() => () => cancelAnimationFrame(raf.current), []);

  // Animate until the layout cools down again (after a drag).
  function kick() {
    if (raf.current) return;
    const step = () => {
      layout.tick();
      layout.tick();
      setFrame((f) => f + 1);
      raf.current = layout.settled ? 0 : requestAnimationFrame(step);
    };
    raf.current = requestAnimationFrame(step);
  }

  function svgPoint(e: { clientX: number; clientY: number }) {
    const svg = svgRef.current;
    const m = svg?.getScreenCTM();
    if (!svg || !m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  }

  function onNodeDown(e: ReactPointerEvent<SVGGElement>, id: number) {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    const p = svgPoint(e);
    drag.current = { id, x0: p.x, y0: p.y, moved: false };
  }
  function onMove(e: ReactPointerEvent<SVGSVGElement>) {
    const d = drag.current;
    if (!d) return;
    const p = svgPoint(e);
    if (!d.moved && Math.hypot(p.x - d.x0, p.y - d.y0) < 4) return;
    d.moved = true;
    layout.pin(d.id, p.x, p.y);
    layout.reheat(0.25);
    kick();
  }
  function onUp() {
    const d = drag.current;
    drag.current = null;
    if (d && !d.moved && d.id !== ci.id) navigate(`cmdb/ci/${d.id}`);
  }

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const types = [...new Set(nodes.map((n) => n.type))].sort();
  const edgeShown = (e: GraphEdge) =>
    hoverEdge === edgeKey(e) || (hoverNode !== null && (e.from_id === hoverNode || e.to_id === hoverNode));

  return (
    <div className="card graph-card">
      <div className="inline-form graph-toolbar">
        <label className="inline">
          Depth
          <select value={depth} onChange={(e) => setDepth(Number(e.target.value))} data-testid="ci-graph-depth">
            {[1, 2, 3].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        {data && (
          <span className="muted small" data-testid="ci-graph-count">
            {nodes.length} nodes, {data.edges.length} relationships
            {data.truncated && ` (truncated at ${NODE_LIMIT})`}
          </span>
        )}
        <span className="spacer" />
        <span className="muted small">Click a node to open it; drag to move it; hover for relation types.</span>
      </div>
      <ErrorBox error={nb.error} />
      <svg
        ref={svgRef}
        className="graph"
        viewBox={viewBox}
        role="img"
        aria-label={`Neighbourhood of ${ci.type}/${ci.name} to depth ${depth}`}
        data-testid="ci-graph"
        data-nodes={nodes.length}
        onPointerMove={onMove}
        onPointerUp={onUp}
        onPointerCancel={() => (drag.current = null)}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="arrow" />
          </marker>
        </defs>
        <g className="edges">
          {(data?.edges ?? []).map((e) => {
            const p = layout.node(e.from_id);
            const q = layout.node(e.to_id);
            if (!p || !q) return null;
            const d = Math.hypot(q.x - p.x, q.y - p.y) || 1;
            const ux = (q.x - p.x) / d;
            const uy = (q.y - p.y) / d;
            const rp = p.id === ci.id ? R + 4 : R;
            const rq = (q.id === ci.id ? R + 4 : R) + 2;
            const shown = edgeShown(e);
            const key = edgeKey(e);
            return (
              <g
                key={key}
                className={`edge${shown ? ' edge-hover' : ''}`}
                data-testid={`graph-edge-${key}`}
                onMouseEnter={() => setHoverEdge(key)}
                onMouseLeave={() => setHoverEdge(null)}
              >
                <title>{`${byId.get(e.from_id)?.name ?? e.from_id} ${e.type} ${byId.get(e.to_id)?.name ?? e.to_id}`}</title>
                <line className="edge-hit" x1={p.x} y1={p.y} x2={q.x} y2={q.y} />
                <line
                  className="edge-line"
                  x1={p.x + ux * rp}
                  y1={p.y + uy * rp}
                  x2={q.x - ux * rq}
                  y2={q.y - uy * rq}
                  markerEnd="url(#arrow)"
                />
                {shown && (
                  <text className="edge-label" x={(p.x + q.x) / 2} y={(p.y + q.y) / 2 - 4} textAnchor="middle">
                    {e.type}
                  </text>
                )}
              </g>
            );
          })}
        </g>
        <g className="nodes">
          {nodes.map((n) => {
            const p = layout.node(n.id);
            if (!p) return null;
            const centre = n.id === ci.id;
            const r = centre ? R + 4 : R;
            return (
              <g
                key={n.id}
                className={`node${centre ? ' node-centre' : ''}`}
                transform={`translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`}
                data-testid={`graph-node-${n.id}`}
                data-type={n.type}
                data-name={n.name}
                role="link"
                tabIndex={0}
                aria-label={`${n.type}/${n.name}`}
                onPointerDown={(e) => onNodeDown(e, n.id)}
                onKeyDown={(e) => e.key === 'Enter' && !centre && navigate(`cmdb/ci/${n.id}`)}
                onMouseEnter={() => setHoverNode(n.id)}
                onMouseLeave={() => setHoverNode(null)}
              >
                <title>{`${n.type}/${n.name}${n.status !== 'active' ? ` (${n.status})` : ''}`}</title>
                <circle r={r} fill={typeColour(n.type)} className={n.status !== 'active' ? 'node-inactive' : undefined} />
                <text y={r + 12} textAnchor="middle" className="node-label">
                  {n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
      <div className="graph-legend">
        {types.map((t) => (
          <span key={t} className="legend-item">
            <svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">
              <circle cx="5" cy="5" r="5" fill={typeColour(t)} />
            </svg>
            {t}
          </span>
        ))}
      </div>
    </div>
  );
}
