// A bad records query parameter. The admin API answers it as BadFilter naming `field`; the CLI
// maps the field back to its flag (src/commands/common.ts).
export class QueryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}
