// Typed client for the schedule service API.
//
// The types in ./schema.js are generated from api/openapi.yaml by openapi-typescript
// (`npm run generate`); this file adds the little the generator cannot: credentials and the
// problem+json error shape. Requests and responses are checked against the contract at compile
// time by openapi-fetch: a wrong path, a missing required field or an unknown field is a type
// error.
import createFetchClient from "openapi-fetch";
import type { Client, ClientOptions, Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** Every error the API answers is an RFC 9457 problem (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];

/** The body of `POST /api/v1/schedules`. */
export type CreateScheduleBody = NonNullable<
  paths["/api/v1/schedules"]["post"]["requestBody"]
>["content"]["application/json"];

/** A schedule as `GET /api/v1/schedules/{id}` answers it. */
export type Schedule = paths["/api/v1/schedules/{id}"]["get"]["responses"][200]["content"]["application/json"];

/** A typed client: `client.GET("/api/v1/schedules", { params: { query: { page_size: 10 } } })`. */
export type ScheduleClient = Client<paths>;

/**
 * How the client authenticates: a JWT sent as `Authorization: Bearer <token>`, or an API key
 * (`sk_…`) sent as `X-API-Key`. A function is called before every request, so a token can be
 * refreshed.
 */
export type Credentials =
  | { bearerToken: string | (() => string | Promise<string>) }
  | { apiKey: string };

export interface ScheduleClientOptions extends ClientOptions {
  /** The service's origin, e.g. `http://127.0.0.1:8080`; paths already start with `/api/v1`. */
  baseUrl: string;
  /** Named `auth` because fetch's own `credentials` (cookies) is another option. */
  auth?: Credentials;
}

/** Creates a client for the service at `options.baseUrl` that sends `options.auth`. */
export function createClient(options: ScheduleClientOptions): ScheduleClient {
  const { auth, ...rest } = options;
  const client = createFetchClient<paths>(rest);
  if (auth !== undefined) {
    client.use(authMiddleware(auth));
  }
  return client;
}

/** The middleware createClient installs; use it with a client made by openapi-fetch directly. */
export function authMiddleware(credentials: Credentials): Middleware {
  return {
    async onRequest({ request }) {
      if ("apiKey" in credentials) {
        request.headers.set("X-API-Key", credentials.apiKey);
      } else {
        const t = credentials.bearerToken;
        request.headers.set("Authorization", `Bearer ${typeof t === "function" ? await t() : t}`);
      }
      return request;
    },
  };
}

/** The stable URI prefix of every problem `type`; what follows it is the kind. */
export const problemTypeBase = "https://schedsvc.dev/problems/";

/** Narrows an error body to a Problem (openapi-fetch's `error` is typed per response already). */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === "string" && typeof v.title === "string" && typeof v.status === "number";
}

/** The kind of a problem, e.g. `not-found` for `https://schedsvc.dev/problems/not-found`. */
export function problemKind(p: Problem): string | undefined {
  return p.type.startsWith(problemTypeBase) ? p.type.slice(problemTypeBase.length) : undefined;
}
