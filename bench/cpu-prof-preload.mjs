// Preloaded into a gateway (NODE_OPTIONS=--import, as --cpu-prof is not allowed there) by
// bench/prof-pg-get.ts: SIGUSR2 starts a CPU profile, a second SIGUSR2 writes it to $PROF_DIR.
import inspector from 'node:inspector';
import fs from 'node:fs';
const s = new inspector.Session();
s.connect();
let on = false;
process.on('SIGUSR2', () => {
  if (!on) {
    s.post('Profiler.enable');
    s.post('Profiler.setSamplingInterval', { interval: 200 });
    s.post('Profiler.start');
    on = true;
  } else {
    s.post('Profiler.stop', (err, { profile }) => {
      fs.writeFileSync(`${process.env.PROF_DIR ?? '/tmp/pgprof'}/p-${process.pid}.cpuprofile`, JSON.stringify(profile));
    });
    on = false;
  }
});
