// The service as operators run it, for the client's tests: its own process (the published build when the Cake Test
// task provides it, else the API project's build output), Production settings, a free loopback port.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const repository = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../..");

const apiAssembly = process.env.USAGE_SLICES_PUBLISHED_API
  || resolve(repository, "src/UsageSlices.Api/bin/Debug/net10.0/UsageSlices.Api.dll");

const connectionString = (process.env.ConnectionStrings__Postgres
  ?? "Host=localhost;Port=5432;Database=usage_slices_tests;Username=usage_slices;Password=usage_slices")
  // A small pool: the tests' calls need few connections, and every service on the machine shares PostgreSQL's 100.
  + ";Connection Idle Lifetime=10;Connection Pruning Interval=1;Maximum Pool Size=8";

/** A port below Linux's ephemeral range (32768+), where no outgoing connection can be holding it. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const probe = createServer();
    const free = await new Promise<boolean>(done => {
      probe.once("error", () => done(false));
      probe.listen(port, "127.0.0.1", () => done(true));
    });
    if (free) {
      probe.close();
      await once(probe, "close");
      return port;
    }
  }
}

export class ServiceProcess {
  readonly signingKey = randomBytes(48).toString("base64");
  private child: ChildProcess | undefined;
  private output: string[] = [];
  private port = 0;
  private managementPort = 0;

  constructor(readonly schema: string, private readonly settings: Record<string, string> = {}) {}

  get baseUrl() { return `http://127.0.0.1:${this.port}/`; }

  private environment(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ASPNETCORE_ENVIRONMENT: "Production",
      ConnectionStrings__Postgres: connectionString,
      Database__Schema: this.schema,
      Auth__SigningKey: this.signingKey,
      ASPNETCORE_URLS: this.baseUrl,
      Management__Urls: `http://127.0.0.1:${this.managementPort}`,
      ...this.settings,
    };
  }

  /** Starts the process and returns once /health/ready answers 200 (on the same port when started again). */
  async start(): Promise<this> {
    if (this.port === 0) {
      this.port = await freePort();
      this.managementPort = await freePort();
    }
    const child = spawn("dotnet", [apiAssembly], { cwd: dirname(apiAssembly), env: this.environment(), stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout!.on("data", chunk => this.output.push(String(chunk)));
    child.stderr!.on("data", chunk => this.output.push(String(chunk)));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`The service exited at start with code ${child.exitCode}:\n${this.output.join("")}`);
      try {
        const ready = await fetch(new URL("/health/ready", this.baseUrl), { signal: AbortSignal.timeout(2_000) });
        if (ready.ok) return this;
      } catch {
        // Not listening yet.
      }
      await delay(100);
    }
    throw new Error(`The service did not become ready within 60 s:\n${this.output.join("")}`);
  }

  /** SIGKILL: no shutdown hooks, no flushing. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  /** A token minted by the service's own `token` command, with this process's signing key. */
  async token(scopes = ["usage:admin"], subject = "typescript-client-test"): Promise<string> {
    const { stdout } = await promisify(execFile)("dotnet", [apiAssembly, "token", "--scopes", scopes.join(" "), "--sub", subject],
      { cwd: dirname(apiAssembly), env: this.environment() });
    return stdout.trim().split("\n").at(-1)!.trim();
  }

  /** Registers a new organisation on `tier` and returns its id. */
  async register(tier: string, adminToken: string): Promise<string> {
    const orgId = `ts-${randomUUID()}`;
    const response = await fetch(new URL(`/api/v1/organisations/${orgId}`, this.baseUrl), {
      method: "PUT",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ slug: orgId, name: "TypeScript client", tier }),
    });
    if (response.status !== 201) throw new Error(`Registering ${orgId} answered ${response.status}: ${await response.text()}`);
    return orgId;
  }
}
