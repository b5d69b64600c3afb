// s3rver (the Node/Koa S3 server people reach for), in its own process like cairn, so both
// are measured the same way. Usage: node --import tsx bench/servers/s3rver.ts <port> <dir>
import S3rver from 's3rver';

const [portArg, directory] = process.argv.slice(2);
if (!portArg || !directory) {
  process.stderr.write('usage: s3rver.ts <port> <dir>\n');
  process.exit(2);
}
const server = new S3rver({ port: Number(portArg), address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'bench' }] });
await server.run();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
