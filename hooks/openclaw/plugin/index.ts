// memman plugin for OpenClaw: two agent tools that call the memman CLI.
// All behaviour lives in the CLI; this file only passes arguments through.
// Installed as a symlink by `memman install --target openclaw`.
import { execFileSync } from "node:child_process";

function memman(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: "utf8", timeout: 10_000 });
}

export default function register(api: any) {
  const command: string = api.config?.command ?? process.env.MEMMAN_BIN ?? "memman";
  api.registerTool({
    name: "memman_recall",
    description: "Recall memories relevant to a query (earlier decisions, preferences, facts).",
    parameters: {
      type: "object",
      properties: { query: { type: "string" }, limit: { type: "number" } },
      required: ["query"],
    },
    async execute(_id: string, params: { query: string; limit?: number }) {
      const out = memman(command, ["recall", params.query, "--limit", String(params.limit ?? 5)]);
      return { content: [{ type: "text", text: out }] };
    },
  });
  api.registerTool({
    name: "memman_remember",
    description: "Remember one durable fact, decision or preference (never secrets or session state).",
    parameters: {
      type: "object",
      properties: {
        text: { type: "string" },
        category: { type: "string", enum: ["preference", "decision", "fact", "insight", "context", "general"] },
      },
      required: ["text"],
    },
    async execute(_id: string, params: { text: string; category?: string }) {
      const out = memman(command, ["remember", params.text, "--cat", params.category ?? "general"]);
      return { content: [{ type: "text", text: out }] };
    },
  });
}
