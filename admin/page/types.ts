// The shapes the web admin reads from the manager's API (GET /api/v1/planet, the event stream,
// the history routes, the listener routes). Types only; the page reads them field by field and
// tolerates fields it does not know (a newer manager) and optional ones that are missing.

export interface LiveFeed { feedId: string; connected: boolean; state: string; restarts: number }
export interface ConfiguredFeed { eater: string; feedId: string; mode: string; remote: boolean }
export type Action = 'start' | 'stop' | 'restart';

export interface Details {
  url?: string;
  /** Every URL a listener can use, the primary first (newer workers). */
  urls?: string[];
  clients?: number;
  bitrateOut?: number;
  routes?: Array<{ mount: string; owner: string }>;
}

export interface ComponentView {
  id: string; flow: string; name: string; type: string; worker: string; mood: string; restarts: number;
  /** What the worker last reported (empty while the component does not run). */
  eaters: Array<{ name: string; feeds: LiveFeed[] }>;
  /** The planet's configured feeds: the graph, whatever runs. */
  feeds?: ConfiguredFeed[];
  /** The commands the manager offers in this mood. */
  actions?: Action[];
  messages: Array<{ level: string; text: string; time: number }>;
  details?: Details;
}

export interface WorkerView { name: string; connected: boolean; state: string; host: string | null; pid: number | null; feedPort: number | null; restarts: number }
export interface Status { planet: string; workers: WorkerView[]; components: ComponentView[] }

export interface Sample { t: number; clients: number; bitrateOut: number; mood?: string }

export interface Listener { id: string; address: string; userAgent: string; connectedSince: number; bytes: number }

export interface PlanetEvent {
  type: string; seq?: number; time: number;
  id?: string; name?: string; mood?: string; previous?: string | null; state?: string; actions?: Action[];
  message?: string; action?: string; ok?: boolean; restarts?: number;
}
