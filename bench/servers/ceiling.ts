// The ceilings a real S3 server is measured against, on the same machine in the same run:
//   md5   every request body is read and MD5'd, nothing stored (the PUT ceiling: S3's ETag
//         needs an MD5 of the whole object, and MD5 is sequential, so no server can beat this
//         on one stream without skipping the ETag);
//   file  every GET streams <file> with 1 MiB reads (the GET ceiling: disk/page cache to socket);
//   floor PUTs as md5; every GET answers 4 KiB held in memory. Node's HTTP server and nothing
//         else: no signature check, no lookup, no storage, so no Node server in one process
//         answers small requests faster on this machine (the small-object scenario's floor).
// Answers are just S3-shaped enough for the SDK and curl (200, ETag, Content-Length).
// Usage: node --import tsx bench/servers/ceiling.ts <md5|file|floor> <port> [file]
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

const [kind, portArg, file] = process.argv.slice(2);
if ((kind !== 'md5' && kind !== 'file' && kind !== 'floor') || !portArg || (kind === 'file' && !file)) {
  process.stderr.write('usage: ceiling.ts <md5|file|floor> <port> [file]\n');
  process.exit(2);
}

const SMALL = randomBytes(4096);
const SMALL_ETAG = `"${createHash('md5').update(SMALL).digest('hex')}"`;
const STARTED = new Date().toUTCString();

const server = http.createServer((req, res) => {
  if (req.method === 'PUT' || req.method === 'POST') {
    const md5 = createHash('md5');
    req.on('data', (piece: Buffer) => md5.update(piece));
    req.on('end', () => {
      res.writeHead(200, { ETag: `"${md5.digest('hex')}"`, 'Content-Length': '0' });
      res.end();
    });
    return;
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && kind === 'file') {
    const size = fs.statSync(file!).size;
    res.writeHead(200, { 'Content-Length': String(size), 'Content-Type': 'application/octet-stream', ETag: '"ceiling"' });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file!, { highWaterMark: 1 << 20 }).pipe(res);
    return;
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && kind === 'floor' && req.url!.indexOf('/', 1) > 0) {
    res.writeHead(200, { 'Content-Length': String(SMALL.length), 'Content-Type': 'application/octet-stream', ETag: SMALL_ETAG, 'Last-Modified': STARTED });
    res.end(req.method === 'HEAD' ? undefined : SMALL);
    req.resume();
    return;
  }
  // Anything else (CreateBucket, ...) succeeds with an empty answer.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
