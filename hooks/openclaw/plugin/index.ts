// memman plugin for OpenClaw: recall reaches the prompt through the
// before_prompt_build hook, and two agent tools call the memman CLI.
// All behaviour lives in the CLI (`memman hook user-prompt-submit`, the same
// relevance gate and fence as Claude Code and Codex); this file only passes
// JSON through. Installed as a symlink by `memman install --target openclaw`,
// which sets `command` (the absolute memman) and `dataDir` in openclaw.json.
import { execFile, execFileSync } from "node:child_process";

export interface MemmanConfig {
  command?: string;
  dataDir?: string;
  budgetMs?: number;
}

interface PromptEvent {
  prompt?: string;
  messages?: unknown[];
}

interface PromptContext {
  workspaceDir?: string;
  sessionKey?: string;
  sessionId?: string;
}

export interface PromptResult {
  prependContext?: string;
}

interface ToolResult {
  content: { type: "text"; text: string }[];
}

export interface PluginApi {
  config?: MemmanConfig;
  pluginConfig?: MemmanConfig;
  on(event: "before_prompt_build", handler: (event: PromptEvent, ctx?: PromptContext) => Promise<PromptResult | undefined>): void;
  registerTool(tool: {
    name: string;
    description: string;
    parameters: object;
    execute(id: string, params: Record<string, unknown>): Promise<ToolResult>;
  }): void;
}

function settings(api: PluginApi): Required<Pick<MemmanConfig, "command">> & MemmanConfig {
  const config = api.pluginConfig ?? api.config ?? {};
  return { ...config, command: config.command ?? process.env.MEMMAN_BIN ?? "memman" };
}

function environment(config: MemmanConfig): NodeJS.ProcessEnv {
  return config.dataDir ? { ...process.env, MEMMAN_DATA_DIR: config.dataDir } : process.env;
}

// Tools run in the workspace the last prompt came from, so they resolve the
// same project store as the prompt injection (memman picks it from its cwd).
function run(config: MemmanConfig & { command: string }, args: string[], cwd?: string): string {
  return execFileSync(config.command, args, { encoding: "utf8", timeout: 10_000, env: environment(config),
                                              cwd: cwd ?? process.cwd() });
}

// Relevant memories for the prompt, fenced as untrusted data; nothing when
// nothing is relevant; nothing (fail open) when memman is slow or broken.
export function recallForPrompt(config: MemmanConfig & { command: string }, prompt: string, cwd?: string,
                                session?: string): Promise<PromptResult | undefined> {
  const payload = JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt, cwd: cwd ?? process.cwd(),
                                   session_id: session ?? "" });
  return new Promise((resolve) => {
    const child = execFile(config.command, ["hook", "user-prompt-submit", "--agent", "openclaw"],
      { encoding: "utf8", timeout: config.budgetMs ?? 3_000, env: environment(config) },
      (error, stdout) => {
        if (error || !stdout.trim()) return resolve(undefined);
        try {
          const text: unknown = JSON.parse(stdout)?.hookSpecificOutput?.additionalContext;
          resolve(typeof text === "string" && text.startsWith("<memories ") ? { prependContext: text } : undefined);
        } catch {
          resolve(undefined);
        }
      });
    child.stdin?.end(payload);
  });
}

export default function register(api: PluginApi): void {
  const config = settings(api);
  let workspace: string | undefined;
  api.on("before_prompt_build", async (event, ctx) => {
    workspace = ctx?.workspaceDir ?? workspace;
    const prompt = typeof event?.prompt === "string" ? event.prompt : "";
    if (!prompt.trim()) return undefined;
    return recallForPrompt(config, prompt, ctx?.workspaceDir, ctx?.sessionId ?? ctx?.sessionKey);
  });
  api.registerTool({
    name: "memman_recall",
    description: "Recall memories relevant to a query (earlier decisions, preferences, facts).",
    parameters: {
      type: "object",
      properties: { query: { type: "string" }, limit: { type: "number" } },
      required: ["query"],
    },
    async execute(_id, params) {
      // --fenced: the same <memories> block as the prompt injection (untrusted, escaped),
      // since a tool result reaches the model just as a prompt does.
      const out = run(config, ["recall", String(params.query), "--limit", String(params.limit ?? 5), "--fenced"], workspace);
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
    async execute(_id, params) {
      const out = run(config, ["remember", String(params.text), "--cat", String(params.category ?? "general")], workspace);
      return { content: [{ type: "text", text: out }] };
    },
  });
}
