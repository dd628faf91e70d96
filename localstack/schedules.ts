/**
 * Local scheduled events: `schedule` events of serverless.yml (rate(N minutes|hours|days)) invoked
 * through serverless-offline's Lambda invoke endpoint, as EventBridge does on AWS. The first run
 * comes one interval after start. LAKEHOUSE_LOCAL_SCHEDULE_MS replaces every interval (tests use
 * seconds; nothing else should).
 */
import { invokeAsync } from './event-bridge.js';

export interface Schedule {
  functionName: string;
  everyMs: number;
}

interface ResolvedService {
  service: string | { name: string };
  provider: { stage?: string };
  functions: Record<string, { name?: string; events?: Array<Record<string, unknown>> }>;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** rate(5 minutes) → 300000; cron expressions and disabled schedules → undefined. */
export function rateMs(expr: string): number | undefined {
  const m = /^rate\(\s*(\d+)\s+(minute|hour|day)s?\s*\)$/.exec(expr.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

export function schedulesFrom(svc: ResolvedService, stage = 'dev'): Schedule[] {
  const serviceName = typeof svc.service === 'string' ? svc.service : svc.service.name;
  const out: Schedule[] = [];
  for (const [key, fn] of Object.entries(svc.functions ?? {})) {
    for (const ev of fn.events ?? []) {
      const s = ev.schedule as string | { rate?: string | string[]; enabled?: boolean } | undefined;
      if (!s || (typeof s === 'object' && s.enabled === false)) continue;
      const rates = typeof s === 'string' ? [s] : [s.rate ?? []].flat();
      for (const r of rates) {
        const everyMs = rateMs(r);
        if (everyMs) out.push({ functionName: fn.name ?? `${serviceName}-${svc.provider.stage ?? stage}-${key}`, everyMs });
      }
    }
  }
  return out;
}

/** Starts the timers; returns a function that stops them. */
export function runSchedules(schedules: Schedule[], lambdaEndpoint: string, say: (msg: string) => void, overrideMs?: number): () => void {
  const timers = schedules.map((s) =>
    setInterval(() => {
      const event = { source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString(), detail: {} };
      invokeAsync(lambdaEndpoint, s.functionName, event).then(
        (status) => {
          if (status >= 300) say(`scheduled run of ${s.functionName} answered HTTP ${status}`);
        },
        (err: Error) => say(`scheduled run of ${s.functionName} failed: ${err.message}`),
      );
    }, overrideMs ?? s.everyMs),
  );
  return () => timers.forEach((t) => clearInterval(t));
}
