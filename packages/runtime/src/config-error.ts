/**
 * The one error every service throws for a bad environment. It lists every problem at once, each
 * naming the variable and the form it expects, so a misconfigured deployment is fixed in one go.
 *
 * @example
 * throw new ConfigError(['PORT must be an integer between 0 and 65535, got "x"']);
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
