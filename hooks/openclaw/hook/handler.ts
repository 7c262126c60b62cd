// memman's OpenClaw bootstrap hook: a thin shim over `memman hook bootstrap`.
// Input: the agent:bootstrap event (JSON on stdin). Output: {"files": [{"path", "content"}]}.
import { execFileSync } from "node:child_process";

const handler = async (event: any) => {
  if (event.type !== "agent" || event.action !== "bootstrap") return;
  const command = process.env.MEMMAN_BIN ?? "memman";
  try {
    const payload = JSON.stringify({ type: event.type, action: event.action, sessionKey: event.sessionKey,
      context: { workspaceDir: event.context?.workspaceDir, agentId: event.context?.agentId } });
    const out = execFileSync(command, ["hook", "bootstrap", "--agent", "openclaw"],
      { input: payload, encoding: "utf8", timeout: 5_000 });
    const answer = JSON.parse(out || "{}");
    for (const file of answer.files ?? []) {
      event.context.bootstrapFiles?.push({ name: file.path, path: file.path, content: file.content, missing: false });
    }
  } catch (err) {
    console.error(`[memman-bootstrap] ${err instanceof Error ? err.message : String(err)}`);
  }
};

export default handler;
