// Creates a schedule with only the required fields, then lists the caller's schedules.
//
//   npm run build && SCHEDSVC_URL=http://127.0.0.1:8080 SCHEDSVC_API_KEY=sk_... \
//     node dist/examples/minimal-create.js
//
// `make sdk` type-checks this file with tsc --strict; the @ts-expect-error lines prove the
// generated types reject a create without a required field and a field the contract lacks.
import { createClient, isProblem, problemKind } from "../src/index.js";
import type { CreateScheduleBody } from "../src/index.js";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

const client = createClient({
  baseUrl: env.SCHEDSVC_URL ?? "http://127.0.0.1:8080",
  auth: env.SCHEDSVC_TOKEN
    ? { bearerToken: env.SCHEDSVC_TOKEN }
    : { apiKey: env.SCHEDSVC_API_KEY ?? "" },
});

// Required fields only: everything else takes the defaults the contract declares.
const minimal: CreateScheduleBody = {
  name: "Weekday support digest",
  cron_expression: "0 9 * * MON-FRI",
  task_query: "Summarise yesterday's support tickets",
};

// @ts-expect-error cron_expression is required
const missingCron: CreateScheduleBody = { name: "x", task_query: "y" };

// @ts-expect-error the contract has no field "every"
const unknownField: CreateScheduleBody = { ...minimal, every: "day" };

void missingCron;
void unknownField;

async function main(): Promise<void> {
  const created = await client.POST("/api/v1/schedules", { body: minimal });
  if (created.error !== undefined) {
    // The error is typed from the declared responses; every one is a Problem.
    const p = created.error;
    throw new Error(`create failed: ${created.response.status} ${isProblem(p) ? `${problemKind(p)}: ${p.detail ?? p.title}` : ""}`);
  }
  console.log("created", created.data.schedule_id, "next run at", created.data.next_run_at);

  const list = await client.GET("/api/v1/schedules", { params: { query: { page_size: 10 } } });
  if (list.error !== undefined) {
    throw new Error(`list failed: ${list.response.status} ${list.error.title}`);
  }
  for (const s of list.data.schedules) {
    console.log(s.id, s.name, s.cron_expression, s.status);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  (globalThis as { process?: { exitCode?: number } }).process!.exitCode = 1;
});
