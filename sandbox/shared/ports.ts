// Ports on loopback: one free for a server to take, and whether a URL answers yet.
import * as net from "node:net";

export const LOOPBACK = "127.0.0.1";

/**
 * Ports the sandbox's servers take: below Linux's ephemeral range (32768-60999), so an outgoing connection's
 * local port (a client of any process on the machine) cannot take a port between the choice and the bind.
 */
export const SERVICE_PORTS = { from: 20_000, to: 32_000 } as const;

/** True when a server can listen on the port on loopback now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

/** A port free now on loopback, drawn from SERVICE_PORTS. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = SERVICE_PORTS.from + Math.floor(Math.random() * (SERVICE_PORTS.to - SERVICE_PORTS.from));
    if (await portIsFree(port)) return port;
    if (attempt >= 200)
      throw new Error(`no free port between ${SERVICE_PORTS.from} and ${SERVICE_PORTS.to} on ${LOOPBACK}`);
  }
}

/** True when something answers HTTP at the URL within a second. */
export async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}
