/**
 * Whether vision answers, watched in the background. Auth's readiness does not depend on it:
 * JWKS, sessions, token refresh and administration work without vision, and an auth pod that
 * left the Service because every vision site was offline would take them all down with it. Face
 * flows answer RECOGNITION_UNAVAILABLE on their own. So vision's state is a metric
 * (`faceline_auth_vision_ready`) and a field of /readyz, never its verdict; it is probed here on a
 * timer so that a readiness check never waits for an unreachable vision address.
 */
import type { Gauge } from 'prom-client';
import type { VisionClient } from '../repositories/vision.repository.js';

export type VisionState = 'ok' | 'unavailable' | 'unknown';

/** How often vision's readiness is probed. */
export const VISION_PROBE_MS = 5_000;

export class VisionHealth {
  private current: VisionState = 'unknown';
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly vision: VisionClient,
    private readonly gauge: Gauge,
  ) {}

  get state(): VisionState {
    return this.current;
  }

  start(intervalMs = VISION_PROBE_MS): void {
    void this.probe();
    this.timer = setInterval(() => void this.probe(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Probes now (one probe at a time) and returns the state it found. */
  async probe(): Promise<VisionState> {
    this.probing ??= this.vision
      .ready()
      .catch(() => false)
      .then((ok) => {
        this.current = ok ? 'ok' : 'unavailable';
        this.gauge.set(ok ? 1 : 0);
      })
      .finally(() => (this.probing = undefined));
    await this.probing;
    return this.current;
  }
}
