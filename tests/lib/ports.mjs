// Free TCP ports on 127.0.0.1.
import net from 'node:net';

/** A port that was free a moment ago: the OS picks it, then it is released for the caller. */
export function getFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
