import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { createMetricsRegistry, scrape } from './metrics.js';

test('a registry of its own with default metrics, prefix and labels', async () => {
  const a = createMetricsRegistry({ prefix: 'vision_' });
  const b = createMetricsRegistry({ labels: { service: 'web' } });
  new Counter({ name: 'faceline_test_total', help: 'test', registers: [a] }).inc(3);
  const { contentType, body } = await scrape(a);
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  assert.match(body, /^vision_process_cpu_seconds_total /m);
  assert.match(body, /^faceline_test_total 3$/m);
  const other = (await scrape(b)).body;
  assert.doesNotMatch(other, /faceline_test_total/);
  assert.match(other, /^process_cpu_seconds_total\{service="web"\} /m);
});
