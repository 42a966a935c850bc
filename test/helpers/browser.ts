// A folder served on localhost and opened in headless Chromium (Debian's, driven by
// playwright-core, which downloads no browser), with every console error and page error kept.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

const types: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

export interface OpenedPage {
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

export async function openServed(folder: string, file = "index.html"): Promise<OpenedPage> {
  const server: Server = createServer((request, response) => {
    const path = join(folder, normalize(new URL(request.url ?? "/", "http://localhost").pathname));
    try {
      const body = readFileSync(path);
      response.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const browser: Browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // The machine's network is closed: no background connections, which it would refuse.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`http://127.0.0.1:${port}/${file}`);
  return {
    page,
    errors,
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
