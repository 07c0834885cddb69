// One colour per CI type, used by the graph, its legend and the type dots in tables.

const BUILTIN: Record<string, string> = {
  site: '#0f766e',
  room: '#0d9488',
  row: '#14b8a6',
  rack: '#2dd4bf',
  pdu: '#b45309',
  pdu_outlet: '#f59e0b',
  server: '#2563eb',
  bmc: '#64748b',
  gpu: '#16a34a',
  nic: '#7c3aed',
  switch: '#dc2626',
  switch_port: '#f87171',
  cable: '#a8a29e',
  storage_volume: '#9333ea',
  os_image: '#475569',
  slurm_partition: '#0891b2',
  k8s_cluster: '#0284c7',
  service: '#db2777',
  instance: '#ea580c',
  tenant: '#ca8a04',
};

const PALETTE = ['#4f46e5', '#059669', '#e11d48', '#d97706', '#0369a1', '#7e22ce', '#65a30d', '#be123c'];

/** The colour of a CI type: fixed for the built-in types, a stable pick for the others. */
export function typeColour(type: string): string {
  const c = BUILTIN[type];
  if (c) return c;
  let h = 0;
  for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}
