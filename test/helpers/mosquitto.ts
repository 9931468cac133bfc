import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { tmpdir } from "node:os";
import path from "node:path";

/** Whether Debian's mosquitto is installed; CI installs it and sets PULUMI_LIVE_REQUIRE_MOSQUITTO=1. */
export function mosquittoAvailable(): boolean {
  return spawnSync("mosquitto", ["-h"], { stdio: "ignore" }).error === undefined;
}

export const mosquittoRequired = process.env.PULUMI_LIVE_REQUIRE_MOSQUITTO === "1";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Mosquitto {
  /** MQTT over WebSocket: mosquitto's own listener, or the bridge to its plain one (see `startMosquitto`). */
  url: string;
  /** mosquitto's plain MQTT listener. */
  plainPort: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A byte-for-byte WebSocket → TCP bridge to mosquitto's plain listener. mosquitto's own WebSocket listener
 * sends a large message to a client a few KB per pass of its event loop, about 40 KB/s
 * (eclipse-mosquitto/mosquitto#1390): a 5 MB message would take minutes. The MQTT session is still
 * entirely mosquitto's; the bridge only carries the bytes, as a load balancer in front of a broker would.
 */
async function startBridge(plainPort: number): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : false),
  });
  wss.on("connection", (ws) => {
    const socket = connect(plainPort, "127.0.0.1");
    socket.on("data", (data) => ws.send(data));
    socket.on("close", () => ws.close());
    socket.on("error", () => ws.terminate());
    ws.on("message", (data: Buffer) => socket.write(data));
    ws.on("close", () => socket.end());
    ws.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/**
 * Starts a private mosquitto on 127.0.0.1 with a plain and a WebSocket listener (mosquitto opens its
 * WebSocket listener only when a plain one is configured too). Resolves when it logs that it listens.
 * With `bridge`, `url` is a WebSocket bridge to the plain listener instead of mosquitto's own (see above).
 */
export async function startMosquitto(options: { bridge?: boolean } = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-mosquitto-"));
  const [plain, ws] = [await freePort(), await freePort()];
  const config = path.join(dir, "mosquitto.conf");
  await writeFile(
    config,
    [
      "persistence false",
      "allow_anonymous true",
      `listener ${plain} 127.0.0.1`,
      `listener ${ws} 127.0.0.1`,
      "protocol websockets",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "log_dest stderr",
      "",
    ].join("\n"),
  );
  const child = spawn("mosquitto", ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mosquitto did not start within 10 s:\n${log}`)), 10_000);
    child.stderr.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(`Opening websockets listen socket on port ${ws}`) && log.includes("running")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto exited with ${code}:\n${log}`));
    });
  });
  const bridge = options.bridge ? await startBridge(plain) : undefined;
  return {
    url: bridge?.url ?? `ws://127.0.0.1:${ws}`,
    plainPort: plain,
    process: child,
    stop: async () => {
      await bridge?.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
