/**
 * ONNX Runtime 1.29+ collects usage telemetry and tries to upload it unless the process
 * environment says ORT_DISABLE_TELEMETRY=1. Vision must not phone home from a production line,
 * so it is off unless an operator explicitly sets the variable.
 *
 * The native library reads the real process environment, which only the main thread can change
 * (a worker's process.env is a private copy), so this runs in the main thread before any worker
 * starts and before any session is created.
 */
export function disableOrtTelemetryByDefault(env: NodeJS.ProcessEnv = process.env): void {
  if (env.ORT_DISABLE_TELEMETRY === undefined) env.ORT_DISABLE_TELEMETRY = '1';
}
