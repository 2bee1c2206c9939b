/**
 * A local HTTP server implementing the subset of the Hub API that ModelVet
 * uses, with the request shapes `@huggingface/hub` 2.17.5 sends:
 *   GET  /api/{models|datasets}/{id}/revision/{rev}?expand=…   (modelInfo / datasetInfo)
 *   GET  /api/{models|datasets}/{id}?securityStatus=true        (repo-level scan status)
 *   GET  /api/{models|datasets}/{id}/tree/{rev}[/{path}]?recursive=&expand=[&cursor=]  (listFiles; Link rel="next")
 *   POST /api/{models|datasets}/{id}/paths-info/{rev}  {paths, expand}                  (pathsInfo)
 *   GET|HEAD /{id}/resolve/{rev}/{path}, /datasets/{id}/resolve/…  with Range → 206
 * Error behaviour per repo (404 unknown, 401 gated) and per server (429 bursts, delays).
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface MockFile {
  path: string;
  content: Uint8Array;
  /** Stored in LFS (tree/paths-info entries carry lfs.oid = sha256). Default: true for binaries > 0 bytes. */
  lfs?: boolean;
  /** Serve different bytes than the listing's hash promises (tampering). */
  servedContent?: Uint8Array;
  securityFileStatus?: unknown;
}

export interface MockRepo {
  id: string;
  kind?: 'model' | 'dataset';
  sha: string;
  /** Branch/tag → commit (main → sha is implied). */
  refs?: Record<string, string>;
  files: MockFile[];
  gated?: false | 'auto' | 'manual';
  private?: boolean;
  libraryName?: string;
  lastModified?: string;
  /** Answer every request for this repo with this status (401 gated/private, 404 …). */
  status?: number;
  securityRepoStatus?: unknown;
}

export interface MockHubBehaviour {
  /** The next N API/resolve requests get 429 with this Retry-After (seconds). */
  rateLimitNext?: number;
  retryAfterSeconds?: number;
  /** Delay every response by this many ms (timeouts). */
  delayMs?: number;
  /** Tree listing page size (pagination via Link header). */
  pageSize?: number;
  /** Listen on this port (default: any free port), for a URL that must be known before the mock starts. */
  port?: number;
}

export interface MockHub {
  url: string;
  /** "METHOD path?query" of every request received. */
  requests: string[];
  behaviour: MockHubBehaviour;
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitBlobOid = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

function treeEntry(f: MockFile, sha: string, expand: boolean) {
  const isLfs = f.lfs ?? f.content.length > 0;
  const entry: Record<string, unknown> = {
    type: 'file', path: f.path, size: f.content.length,
    oid: isLfs ? gitBlobOid(Buffer.from(`lfs pointer sha256:${sha256(f.content)} size ${f.content.length}`)) : gitBlobOid(f.content),
  };
  if (isLfs) entry.lfs = { oid: sha256(f.content), size: f.content.length, pointerSize: 134 };
  if (expand) {
    entry.lastCommit = { id: sha, title: 'upload', date: '2025-01-02T03:04:05.000Z' };
    entry.securityFileStatus = f.securityFileStatus ?? { status: 'unscanned' };
  }
  return entry;
}

export async function startMockHub(repos: MockRepo[], behaviour: MockHubBehaviour = {}): Promise<MockHub> {
  const requests: string[] = [];
  const byKey = new Map(repos.map((r) => [`${r.kind ?? 'model'}:${r.id}`, r]));
  const state: MockHubBehaviour = behaviour;
  let base = '';

  /** Split "org/name/rest…" into a known repo id and the rest (ids have one or two segments). */
  const findRepo = (kind: 'model' | 'dataset', segments: string[]) => {
    for (const n of [2, 1]) {
      const id = segments.slice(0, n).join('/');
      const repo = byKey.get(`${kind}:${id}`);
      if (repo) return { repo, rest: segments.slice(n) };
    }
    // Unknown repo: assume an org/name id so that the rest still parses.
    return { repo: undefined, rest: segments.slice(2) };
  };

  const resolveRev = (repo: MockRepo, rev: string): string | undefined => {
    if (rev === 'HEAD' || rev === 'main') return repo.refs?.main ?? repo.sha;
    if (repo.refs?.[rev]) return repo.refs[rev];
    if (/^[0-9a-f]{40}$/.test(rev) && (rev === repo.sha || Object.values(repo.refs ?? {}).includes(rev))) return rev;
    return undefined;
  };

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', base);
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.rateLimitNext && state.rateLimitNext > 0) {
      state.rateLimitNext--;
      res.writeHead(429, { 'retry-after': String(state.retryAfterSeconds ?? 0), 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'rate limited' }));
      return;
    }
    const segs = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    if (segs[0] === 'api' && (segs[1] === 'models' || segs[1] === 'datasets')) {
      const kind = segs[1] === 'models' ? 'model' : 'dataset';
      const { repo, rest } = findRepo(kind, segs.slice(2));
      if (!repo) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      if (repo.status) return json(res, repo.status, { error: repo.status === 401 ? 'Access to this repo is restricted' : 'error' });
      const info = (sha: string, withSecurity: boolean) => ({
        _id: `id-${repo.id}`, id: repo.id, sha, private: !!repo.private, gated: repo.gated ?? false,
        lastModified: repo.lastModified ?? '2025-01-02T03:04:05.000Z', library_name: repo.libraryName,
        downloads: 1, likes: 0, pipeline_tag: 'text-generation',
        siblings: repo.files.map((f) => ({ rfilename: f.path })),
        ...(withSecurity ? { securityRepoStatus: repo.securityRepoStatus ?? { scansDone: true, filesWithIssues: [] } } : {}),
      });
      if (rest.length === 0 && req.method === 'GET') return json(res, 200, info(repo.sha, u.searchParams.get('securityStatus') === 'true'));
      const rev = rest[1] !== undefined ? resolveRev(repo, rest[1]) : undefined;
      if (rest[0] === 'revision' && req.method === 'GET') {
        if (!rev) return json(res, 404, { error: 'Invalid rev id' }, { 'x-error-code': 'RevisionNotFound' });
        return json(res, 200, info(rev, false));
      }
      if (rest[0] === 'tree' && req.method === 'GET') {
        if (!rev) return json(res, 404, { error: 'Invalid rev id' });
        const prefix = rest.slice(2).join('/');
        const recursive = u.searchParams.get('recursive') === 'true';
        const expand = u.searchParams.get('expand') === 'true';
        const files = repo.files.filter((f) => (!prefix || f.path.startsWith(prefix + '/')) && (recursive || !f.path.slice(prefix ? prefix.length + 1 : 0).includes('/')));
        const cursor = Number(u.searchParams.get('cursor') ?? '0');
        const pageSize = state.pageSize ?? 1000;
        const page = files.slice(cursor, cursor + pageSize).map((f) => treeEntry(f, rev, expand));
        const headers: Record<string, string> = {};
        if (cursor + pageSize < files.length) {
          const next = new URL(u.toString());
          next.searchParams.set('cursor', String(cursor + pageSize));
          headers.link = `<${next.toString()}>; rel="next"`;
        }
        return json(res, 200, page, headers);
      }
      if (rest[0] === 'paths-info' && req.method === 'POST') {
        if (!rev) return json(res, 404, { error: 'Invalid rev id' });
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { paths?: string[]; expand?: boolean };
        const wanted = new Set(body.paths ?? []);
        return json(res, 200, repo.files.filter((f) => wanted.has(f.path)).map((f) => treeEntry(f, rev, !!body.expand)));
      }
      return json(res, 404, { error: 'not implemented in mock' });
    }

    // resolve: /{id}/resolve/{rev}/{path} or /datasets/{id}/resolve/{rev}/{path}
    const kind = segs[0] === 'datasets' ? 'dataset' : 'model';
    const rs = kind === 'dataset' ? segs.slice(1) : segs;
    const at = rs.indexOf('resolve');
    if (at > 0 && (req.method === 'GET' || req.method === 'HEAD')) {
      const repo = byKey.get(`${kind}:${rs.slice(0, at).join('/')}`);
      if (!repo) return json(res, 404, { error: 'Repository not found' });
      if (repo.status) return json(res, repo.status, { error: 'restricted' });
      const rev = rs[at + 1] ? resolveRev(repo, rs[at + 1]) : undefined;
      const file = repo.files.find((f) => f.path === rs.slice(at + 2).join('/'));
      if (!rev || !file) return json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
      const body = Buffer.from(file.servedContent ?? file.content);
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: `"${sha256(file.content)}"`, 'x-repo-commit': rev };
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
        if (start >= body.length || start > end) {
          res.writeHead(416, { 'content-range': `bytes */${body.length}` });
          return res.end();
        }
        res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': String(end - start + 1) });
        return res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
      }
      res.writeHead(200, { ...headers, 'content-length': String(body.length) });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    return json(res, 404, { error: 'not found' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((r, reject) => { server.once('error', reject); server.listen(behaviour.port ?? 0, '127.0.0.1', () => r()); });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base, requests, behaviour: state,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A pickle (protocol 2) that would run `os.system('touch /tmp/modelvet_pwned_x')` — built from raw opcodes, never loaded. */
export function maliciousPickle(): Uint8Array {
  const cmd = Buffer.from('touch /tmp/modelvet_pwned_x', 'ascii');
  return Buffer.concat([
    Buffer.from([0x80, 0x02]), // PROTO 2
    Buffer.from('cposix\nsystem\n', 'ascii'), // GLOBAL posix.system
    Buffer.from([0x58]), u32(cmd.length), cmd, // BINUNICODE
    Buffer.from([0x85, 0x52, 0x2e]), // TUPLE1, REDUCE, STOP
  ]);
}

/** A valid SafeTensors file: one F32 tensor "w" of shape [2, 2]. */
export function safetensorsFile(): Uint8Array {
  let header = JSON.stringify({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, __metadata__: { format: 'pt' } });
  while ((header.length + 8) % 8) header += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(16);
  [1, 2, 3, 4].forEach((v, i) => data.writeFloatLE(v, i * 4));
  return Buffer.concat([len, Buffer.from(header, 'ascii'), data]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
