// A TCP proxy in front of the service that, for its first `dropAnswers` connections, lets the request through,
// waits for the first byte of the service's answer (the work is committed by then), and resets the client's
// connection without passing the answer on: the caller sees a broken connection, as after a network fault.
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { once } from "node:events";

export class DroppingProxy {
  dropped = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(target: URL, private dropsLeft: number) {
    this.server = createServer(client => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
      }
      const drop = this.dropsLeft > 0;
      if (drop) this.dropsLeft--;
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.pipe(upstream);
      if (!drop) {
        upstream.pipe(client);
        return;
      }
      upstream.once("data", () => {
        this.dropped++;
        client.resetAndDestroy();
        upstream.destroy();
      });
    });
  }

  static async start(target: string, dropAnswers: number) {
    const proxy = new DroppingProxy(new URL(target), dropAnswers);
    proxy.server.listen(0, "127.0.0.1");
    await once(proxy.server, "listening");
    return proxy;
  }

  get address() { return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`; }

  async close() {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}
