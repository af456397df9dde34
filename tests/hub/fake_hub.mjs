// A stand-in for the Hugging Face hub, for `hearth pull` tests (the real hub is unreachable here).
// Serves the routes huggingface_hub uses, from a directory:
//   ROOT/ORG/NAME/revisions.json     {"main": COMMIT, "v1": COMMIT, ...}
//   ROOT/ORG/NAME/files/...          the repository's files (one commit's content)
// Routes:
//   GET /api/models/ORG/NAME/revision/REV[?blobs=true]   {"sha", "siblings": [{rfilename, size, blobId, lfs}]}
//   GET /ORG/NAME/resolve/COMMIT/PATH    small files: 200 with ETag (git blob sha1) and X-Repo-Commit;
//                                        LFS files (*.safetensors, or over 64 KiB): 302 to /cdn/... with
//                                        X-Linked-Etag (sha256), X-Linked-Size, X-Repo-Commit
//   GET /cdn/ORG/NAME/PATH               the bytes; honours "Range: bytes=N-" (206 + Content-Range)
// Faults, for the tests:
//   --drop-after N    the first unranged download of each LFS file sends N bytes, then drops the connection
//   --corrupt PATH    serves PATH with one byte changed (the metadata keeps the true digests)
//   --ignore-range    answers Range requests with the whole file (200)
// Usage: node fake_hub.mjs ROOT PORT_FILE LOG_FILE [faults]. Writes its port to PORT_FILE once listening
// and one line per request ("GET /url range=bytes=N-") to LOG_FILE.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, appendFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [root, portFile, logFile, ...rest] = process.argv.slice(2);
const faults = { dropAfter: 0, corrupt: '', ignoreRange: false };
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--drop-after') faults.dropAfter = Number(rest[++i]);
  else if (rest[i] === '--corrupt') faults.corrupt = rest[++i];
  else if (rest[i] === '--ignore-range') faults.ignoreRange = true;
  else throw new Error(`unknown argument ${rest[i]}`);
}
writeFileSync(logFile, '');
const dropped = new Set();

function listFiles(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

function fileInfo(repoDir, path) {
  const bytes = readFileSync(join(repoDir, 'files', path));
  const blobId = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  const lfs = path.endsWith('.safetensors') || bytes.length > 65536;
  const info = { rfilename: path, size: bytes.length, blobId };
  if (lfs) info.lfs = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, pointerSize: 134 };
  return { info, bytes };
}

function served(path, bytes) {
  if (path !== faults.corrupt) return bytes;
  const copy = Buffer.from(bytes);
  copy[copy.length >> 1] ^= 0xff;
  return copy;
}

function fail(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code });
  res.end(JSON.stringify({ error: message }));
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  appendFileSync(logFile, `${req.method} ${req.url} range=${req.headers.range ?? ''} auth=${req.headers.authorization ?? ''}\n`);
  const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
  let m;
  if (parts[0] === 'api' && parts[1] === 'models' && parts[4] === 'revision') {
    const repoDir = join(root, parts[2], parts[3]);
    if (!existsSync(repoDir)) return fail(res, 404, 'RepoNotFound', 'Repository not found');
    const revisions = JSON.parse(readFileSync(join(repoDir, 'revisions.json'), 'utf8'));
    const rev = parts.slice(5).join('/');
    const commit = revisions[rev] ?? (Object.values(revisions).includes(rev) ? rev : undefined);
    if (!commit) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const siblings = listFiles(join(repoDir, 'files')).map((p) => fileInfo(repoDir, p).info);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ id: `${parts[2]}/${parts[3]}`, sha: commit, siblings }));
  }
  if (parts[2] === 'resolve') {
    const repoDir = join(root, parts[0], parts[1]);
    const path = parts.slice(4).join('/');
    if (!existsSync(join(repoDir, 'files', path))) return fail(res, 404, 'EntryNotFound', `${path} does not exist`);
    const { info, bytes } = fileInfo(repoDir, path);
    const common = { 'X-Repo-Commit': parts[3] };
    if (info.lfs) {
      res.writeHead(302, {
        ...common,
        'X-Linked-Etag': `"${info.lfs.sha256}"`,
        'X-Linked-Size': String(info.size),
        Location: `http://${req.headers.host}/cdn/${parts[0]}/${parts[1]}/${path}`,
      });
      return res.end();
    }
    res.writeHead(200, { ...common, ETag: `"${info.blobId}"`, 'Content-Length': bytes.length });
    return res.end(served(path, bytes));
  }
  if (parts[0] === 'cdn') {
    const path = parts.slice(3).join('/');
    const bytes = served(path, readFileSync(join(root, parts[1], parts[2], 'files', path)));
    const range = (m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')) && !faults.ignoreRange ? Number(m[1]) : -1;
    if (range >= 0) {
      if (range >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        return res.end();
      }
      res.writeHead(206, { 'Content-Range': `bytes ${range}-${bytes.length - 1}/${bytes.length}`, 'Content-Length': bytes.length - range });
      return res.end(bytes.subarray(range));
    }
    res.writeHead(200, { 'Content-Length': bytes.length });
    if (faults.dropAfter > 0 && faults.dropAfter < bytes.length && !dropped.has(path)) {
      dropped.add(path);
      res.write(bytes.subarray(0, faults.dropAfter), () => setTimeout(() => res.socket.destroy(), 50));
      return;
    }
    return res.end(bytes);
  }
  fail(res, 404, 'NotFound', `no route for ${url.pathname}`);
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
