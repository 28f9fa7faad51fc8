// A free TCP port on loopback (no dependencies: the browser tests and the benchmarks use it too).
//
// Ports are picked below the kernel's ephemeral range (32768–60999 on Linux): a port the kernel
// hands out for `listen(0)` is released before the test binds it again, and in between any
// outgoing connection (an agent dialling the gateway, a Redis client) may take it as its source
// port — seen as EADDRINUSE in a full run. Below that range nothing is assigned behind our back;
// the random start and the bind check keep parallel test files apart.
import net from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found between ${LOW} and ${HIGH}`);
}
