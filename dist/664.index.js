export const id = 664;
export const ids = [664];
export const modules = {

/***/ 5664:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  planRelease: () => (/* binding */ planRelease)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/limiter.ts
var limiter = __webpack_require__(1555);
// EXTERNAL MODULE: ./src/replace.ts
var replace = __webpack_require__(4183);
// EXTERNAL MODULE: ./src/retry.ts
var src_retry = __webpack_require__(9809);
// EXTERNAL MODULE: ./src/units.ts
var units = __webpack_require__(1996);
// EXTERNAL MODULE: ./src/upload/names.ts
var names = __webpack_require__(6361);
// EXTERNAL MODULE: ./src/upload/parts.ts
var upload_parts = __webpack_require__(3603);
// EXTERNAL MODULE: ./src/upload/plan.ts + 11 modules
var plan = __webpack_require__(536);
// EXTERNAL MODULE: ./node_modules/@actions/github/lib/github.js
var github = __webpack_require__(1351);
// EXTERNAL MODULE: ./node_modules/@actions/github/lib/utils.js + 20 modules
var utils = __webpack_require__(8665);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
// EXTERNAL MODULE: ./node_modules/undici/index.js
var undici = __webpack_require__(6752);
// EXTERNAL MODULE: ./src/log.ts
var log = __webpack_require__(5625);
// EXTERNAL MODULE: ./src/proxy.ts
var proxy = __webpack_require__(8903);
// EXTERNAL MODULE: ./src/version.ts
var version = __webpack_require__(311);
;// CONCATENATED MODULE: ./src/github/client.ts
/**
 * The GitHub REST calls behind the `release` source, through @actions/github's Octokit (its
 * base URL from GITHUB_API_URL, so GHES works; the runner's proxy): a release by tag, its
 * assets page by page, and an asset's bytes. The asset call's redirect is not followed by
 * Octokit: its storage URL is fetched here with no credentials at all, so the token can never
 * reach the storage host. Rate limits are waited out; every message is parsed and scrubbed.
 */









/** How long a rate limit may be waited out in one go before the run gives up. */
const MAX_RATE_LIMIT_WAIT_MS = 5 * 60_000;
/** Redirects between the asset call and the bytes (GitHub uses one). */
const MAX_HOPS = 3;
const isHttpError = (e) => e instanceof Error && typeof e.status === 'number';
/** A storage answer other than the bytes (an expired URL, a 5xx): never carries the URL. */
class StorageRefusal extends Error {
    status;
    constructor(status) {
        super(`the storage host answered HTTP ${status}`);
        this.status = status;
    }
}
class GitHubReleases {
    ref;
    deps;
    octokit;
    storage;
    constructor(ref, deps) {
        this.ref = ref;
        this.deps = deps;
        const baseUrl = deps.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com';
        // No token: anonymous reads, which GitHub allows on public repositories (60 requests/hour).
        this.octokit = deps.token
            ? (0,github/* getOctokit */.Q)(deps.token, { baseUrl, userAgent: version/* USER_AGENT */._ })
            : new utils/* GitHub */.gq({ baseUrl, userAgent: version/* USER_AGENT */._ });
        // Storage is another host: its own pool, proxies from the environment, no credentials.
        this.storage = (0,proxy/* proxyAwareDispatcher */.U)({ connectTimeout: 15_000 });
    }
    close() {
        return this.storage.close();
    }
    /** The published release with this tag (drafts are never found by tag). */
    async release() {
        const { tag } = this.ref;
        try {
            return await this.releaseByTag(tag);
        }
        catch (error) {
            // `1.0.0` for the tag `v1.0.0` (or the reverse) is a common slip: name the one that exists.
            const other = /^v\d/i.test(tag) ? tag.slice(1) : /^\d/.test(tag) ? `v${tag}` : null;
            if (!(error instanceof errors/* InputError */.dz) || error.input !== 'release' || !other)
                throw error;
            const found = await this.releaseByTag(other).then(() => true, () => false);
            if (!found)
                throw error;
            throw new errors/* InputError */.dz('release', `there is no published release '${tag}' in ${this.ref.owner}/${this.ref.repo}, but there ` +
                `is one tagged '${other}'. Did you mean release: ${other}?`);
        }
    }
    async releaseByTag(tag) {
        const { owner, repo } = this.ref;
        const res = await this.call('GET /repos/{owner}/{repo}/releases/tags/{tag}', () => this.octokit.request('GET /repos/{owner}/{repo}/releases/tags/{tag}', { owner, repo, tag }));
        return { id: res.data.id, tag_name: res.data.tag_name };
    }
    /** Every asset, 100 a page, following GitHub's `Link` URLs as given. */
    async assets(releaseId) {
        const { owner, repo } = this.ref;
        const all = await this.call('GET /repos/{owner}/{repo}/releases/{id}/assets', () => this.octokit.paginate('GET /repos/{owner}/{repo}/releases/{release_id}/assets', {
            owner,
            repo,
            release_id: releaseId,
            per_page: 100
        }));
        return all.map(a => ({
            id: a.id,
            name: a.name,
            size: a.size,
            state: a.state,
            digest: a.digest ?? null
        }));
    }
    /**
     * The asset's bytes as a stream: the API answers 302 to a signed storage URL (fetched with
     * no Authorization, no cookie: only the URL's own signature) or, on some GHES, 200 itself.
     */
    async open(asset) {
        const { owner, repo } = this.ref;
        const res = await this.call('GET /repos/{owner}/{repo}/releases/assets/{id}', () => this.octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
            owner,
            repo,
            asset_id: asset.id,
            headers: { accept: 'application/octet-stream' },
            request: { redirect: 'manual', parseSuccessResponseBody: false, signal: this.deps.signal }
        }));
        const body = res.data;
        const status = res.status;
        if (status === 200 && body)
            return external_node_stream_.Readable.fromWeb(body);
        await body?.cancel().catch(() => undefined);
        const location = res.headers.location;
        if (status < 300 || status >= 400 || !location) {
            throw new errors/* GitHubApiError */.OS(status, 'GET', 'releases/assets/{id}', 'no redirect to the asset');
        }
        return this.fromStorage(location);
    }
    async fromStorage(url, hops = 0) {
        const res = await (0,undici.request)(url, {
            method: 'GET',
            dispatcher: this.storage,
            headers: { 'user-agent': version/* USER_AGENT */._, accept: 'application/octet-stream' },
            signal: this.deps.signal,
            headersTimeout: 60_000,
            bodyTimeout: 300_000
        });
        const location = res.headers.location;
        if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
            await res.body.dump();
            if (hops >= MAX_HOPS)
                throw new StorageRefusal(res.statusCode);
            return this.fromStorage(new URL(location, url).href, hops + 1);
        }
        if (res.statusCode !== 200) {
            await res.body.dump(); // its body may echo what it was sent: never read into a message
            throw new StorageRefusal(res.statusCode);
        }
        return res.body;
    }
    /**
     * One API call with retries: 5xx, network errors, and rate limits (GitHub answers 403 or 429
     * for both its primary and secondary limits; the headers and message tell them from a 403
     * that means "no permission"). Errors come out as messages naming the input to fix.
     */
    async call(route, send) {
        const { retry, logger } = this.deps;
        try {
            return await (0,src_retry/* withRetry */.bD)(() => send(), {
                policy: { ...retry, maxDelayMs: Math.max(retry.maxDelayMs, MAX_RATE_LIMIT_WAIT_MS) },
                classify: error => {
                    if (!isHttpError(error))
                        return { retriable: (0,src_retry/* isNetworkError */.TX)(error) };
                    const limit = rateLimitWait(error);
                    if (limit !== null) {
                        return { retriable: limit <= MAX_RATE_LIMIT_WAIT_MS, retryAfterMs: limit };
                    }
                    return { retriable: error.status >= 500 || (0,src_retry/* isNetworkError */.TX)(error) };
                },
                signal: this.deps.signal,
                logger,
                label: `GitHub ${route}`,
                describe
            });
        }
        catch (error) {
            throw this.explain(route, error);
        }
    }
    explain(route, error) {
        const { owner, repo, tag } = this.ref;
        const secrets = [this.deps.token];
        // Octokit reports a failed fetch (DNS, refused, reset) as a status 500 with no response.
        if (!isHttpError(error) || !error.response) {
            const cause = error.cause ?? error;
            return new errors/* GitHubApiError */.OS(0, 'GET', route, (0,log/* scrub */._I)((0,log/* describeError */.Uc)(cause), secrets));
        }
        const message = (0,log/* scrub */._I)(bodyMessage(error), secrets);
        if (error.status === 401) {
            return new errors/* InputError */.dz('github-token', `GitHub refused it (HTTP 401 ${message}). Leave it at its default (\`\${{ github.token }}\`) ` +
                `or pass a valid token that can read ${owner}/${repo}.`);
        }
        if (error.status === 404 && route.includes('/tags/')) {
            return new errors/* InputError */.dz('release', `there is no published release '${tag}' in ${owner}/${repo} (drafts are not visible), or ` +
                '`github-token` cannot read it (GitHub answers 404 for both).');
        }
        const limit = rateLimitWait(error);
        if (limit !== null) {
            return new errors/* GitHubApiError */.OS(error.status, 'GET', route, `${message}; GitHub's rate limit did not clear in time (${Math.ceil(limit / 1000)} s more). ` +
                (this.deps.token
                    ? 'Re-run later.'
                    : 'Without a token GitHub allows 60 requests an hour: set `github-token`, or re-run later.'));
        }
        if (error.status === 403) {
            return new errors/* InputError */.dz('github-token', `cannot read the releases of ${owner}/${repo} (HTTP 403 ${message}). Give the job ` +
                '`permissions: contents: read`, or pass a token with read access to that repository.');
        }
        return new errors/* GitHubApiError */.OS(error.status, 'GET', route, message);
    }
}
/** The parsed `message` of GitHub's JSON error body; never the body itself. */
function bodyMessage(error) {
    const data = error.response?.data;
    if (data &&
        typeof data === 'object' &&
        typeof data.message === 'string') {
        return data.message;
    }
    return error.status >= 500 ? 'server error' : 'no details';
}
/**
 * How long a rate limit asks to wait, or null when this is not one: `retry-after` seconds, else
 * `x-ratelimit-reset` when nothing remains, else a minute for a secondary limit that names none.
 */
function rateLimitWait(error, now = Date.now()) {
    if (error.status !== 403 && error.status !== 429)
        return null;
    const h = error.response?.headers ?? {};
    const secondary = /secondary rate limit|abuse/i.test(bodyMessage(error));
    const exhausted = h['x-ratelimit-remaining'] === '0';
    if (!secondary && !exhausted && error.status === 403)
        return null;
    const after = Number(h['retry-after']);
    if (Number.isFinite(after) && after >= 0)
        return Math.min(after * 1000, src_retry/* MAX_RETRY_AFTER_MS */.yL);
    const reset = Number(h['x-ratelimit-reset']);
    if (exhausted && Number.isFinite(reset))
        return Math.max(0, reset * 1000 - now);
    return 60_000;
}
function describe(error) {
    if (error instanceof StorageRefusal)
        return error.message;
    if (isHttpError(error))
        return `HTTP ${error.status}`;
    return (0,log/* describeError */.Uc)(error);
}


// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(6466);
// EXTERNAL MODULE: ./src/upload/hash.ts
var hash = __webpack_require__(8761);
// EXTERNAL MODULE: ./node_modules/minimatch/dist/esm/index.js + 7 modules
var esm = __webpack_require__(3581);
;// CONCATENATED MODULE: ./src/github/select.ts
/** Which assets of a release the `files` patterns select, and what is still missing. Pure. */

/**
 * Empty `files` selects every asset (and a release with none is unmatched, as `*`);
 * otherwise as local patterns, over asset names.
 */
function selectAssets(assets, patterns) {
    const options = { dot: true, nocomment: true, nonegate: true };
    const includes = patterns.filter(p => !p.startsWith('!'));
    const excludes = patterns.filter(p => p.startsWith('!')).map(p => p.slice(1));
    const excluded = (a) => excludes.some(p => (0,esm/* minimatch */.xF)(a.name, p, options));
    const chosen = new Map();
    const unmatched = [];
    for (const line of includes.length ? includes : ['*']) {
        const hits = assets.filter(a => (0,esm/* minimatch */.xF)(a.name, line, options) && !excluded(a));
        if (hits.length === 0)
            unmatched.push(line);
        for (const a of hits)
            chosen.set(a.id, a);
    }
    const sorted = [...chosen.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { chosen: sorted, unmatched, pending: sorted.filter(a => a.state !== 'uploaded') };
}
/** The lowercase hex of a `sha256:` digest, or null when GitHub gave none we can use. */
function digestHex(digest) {
    const m = /^sha256:([0-9a-f]{64})$/i.exec(digest ?? '');
    return m ? m[1].toLowerCase() : null;
}

;// CONCATENATED MODULE: ./src/github/download.ts
/**
 * Downloads release assets into a folder under RUNNER_TEMP, streaming (memory stays flat
 * whatever the size), counting and hashing the bytes as they arrive, then checking them
 * against the asset's size and GitHub's `digest`: an HTML error page served with 200, a cut
 * connection or a corrupted asset never reaches Polar. A failed attempt asks the API again
 * (storage URLs are short-lived).
 */










/** `parts`: how the file will be cut for its upload (its part hashes are computed on the way). */
async function downloadAsset(asset, dir, parts, deps) {
    const path = (0,external_node_path_.join)(dir, String(asset.id)); // not the name: nothing of it reaches a path
    const expected = digestHex(asset.digest);
    const attempt = async () => {
        const source = await deps.github.open(asset);
        const hasher = new hash/* StreamHasher */.YQ(parts);
        const count = new external_node_stream_.Transform({
            transform(chunk, _encoding, done) {
                // More than GitHub said: an error page or the wrong object; stop reading it.
                if (hasher.bytes + chunk.length > asset.size) {
                    return done(tooLong(asset, hasher.bytes + chunk.length));
                }
                hasher.update(chunk);
                done(null, chunk);
            }
        });
        await (0,external_node_stream_promises_.pipeline)(source, count, (0,external_node_fs_.createWriteStream)(path), { signal: deps.signal });
        if (hasher.bytes !== asset.size)
            throw tooLong(asset, hasher.bytes);
        const { whole, partDigests } = hasher.digest();
        const sha256Hex = whole.toString('hex');
        if (expected && sha256Hex !== expected) {
            throw new errors/* AssetMismatchError */.Fn(asset.name, 'digest', `Release asset ${asset.name}: its SHA-256 (${sha256Hex}) is not the digest GitHub gives ` +
                `for it (${expected}). Nothing was published; check the release's asset.`);
        }
        return {
            path,
            hashes: {
                sha256Hex,
                sha256Base64: whole.toString('base64'),
                partSha256Base64: partDigests
            }
        };
    };
    return (0,src_retry/* withRetry */.bD)(attempt, {
        policy: deps.retry,
        classify: error => {
            // A wrong size is usually an error page or a cut transfer; a wrong digest at the right
            // size is the asset itself, and downloading it again would not change it.
            if (error instanceof errors/* AssetMismatchError */.Fn)
                return { retriable: error.what === 'size' };
            if (error instanceof StorageRefusal) {
                return { retriable: error.status === 403 || error.status === 429 || error.status >= 500 };
            }
            return { retriable: (0,src_retry/* isNetworkError */.TX)(error) };
        },
        signal: deps.signal,
        logger: deps.logger,
        label: asset.name,
        describe: error => `download failed (${(0,log/* describeError */.Uc)(error)})`
    });
}
function tooLong(asset, bytes) {
    const why = '(an error page, or a cut download). Nothing was published.';
    return new errors/* AssetMismatchError */.Fn(asset.name, 'size', bytes > asset.size
        ? `Release asset ${asset.name}: the download ran past the ${asset.size} bytes GitHub lists ${why}`
        : `Release asset ${asset.name}: the download ended at ${bytes} bytes, short of the ${asset.size} bytes GitHub lists ${why}`);
}

;// CONCATENATED MODULE: ./src/github/source.ts
/**
 * The `release` source: a GitHub release's assets as planned files. Waits (up to release-wait)
 * for the release, for every pattern to match and for assets still uploading; reuses an
 * asset whose digest equals a same-name Polar file's SHA-256 without downloading it; downloads
 * and verifies the rest. All of it happens before the first Polar write. Loaded only when
 * `release` is set, so a plain upload never loads Octokit.
 */













/**
 * Between two looks at a release that is not complete yet: growing, so a long release-wait
 * costs tens of API calls, not hundreds (GITHUB_TOKEN has 1,000 an hour per repository).
 */
const POLL_MS = 5000;
const POLL_MAX_MS = 30_000;
const DOWNLOAD_CONCURRENCY = 4;
async function planRelease(inputs, deps) {
    const ref = inputs.release;
    const github = new GitHubReleases(ref, {
        token: inputs.githubToken,
        retry: deps.retry,
        logger: deps.logger,
        signal: deps.signal
    });
    if (!inputs.githubToken) {
        deps.logger.info(`github-token is empty: reading ${ref.owner}/${ref.repo} without a token (public ` +
            'repositories only, 60 requests an hour).');
    }
    try {
        const selection = await waitForRelease(github, ref, inputs, deps);
        const unmatchedMessage = !selection.unmatched.length
            ? null
            : inputs.patterns.length
                ? `${selection.unmatched.length} of the patterns in \`files\` matched no asset of release ` +
                    `${ref.tag} in ${ref.owner}/${ref.repo}: ${selection.unmatched.map(p => `'${p}'`).join(', ')}.`
                : `Release ${ref.tag} in ${ref.owner}/${ref.repo} has no assets.`;
        if (unmatchedMessage && inputs.ifNoFilesFound === 'error') {
            throw new errors/* InputError */.dz('files', `${unmatchedMessage} Check the asset names (GitHub renames spaces and special characters ` +
                'to dots), raise release-wait if they are still being attached, or set if-no-files-found: warn.');
        }
        const files = await planAssets(selection.chosen, inputs);
        const existing = await deps.existing();
        const reuse = inputs.ifUnchanged === 'skip';
        // Not downloaded: what is reused, and in a dry run anything whose digest GitHub gives.
        const needed = files.filter(f => !(f.sha256 &&
            (inputs.dryRun || (reuse && (0,replace/* findUnchanged */.pb)(f.name, f.sha256, existing, inputs.version)))));
        if (needed.length)
            await download(github, needed, selection.chosen, inputs.partSize, deps);
        return {
            files,
            unmatched: selection.unmatched,
            hiddenSkipped: 0,
            unmatchedMessage,
            warnings: []
        };
    }
    finally {
        await github.close();
    }
}
/** Looks until the release exists, every pattern matches and every chosen asset is uploaded. */
async function waitForRelease(github, ref, inputs, deps) {
    const deadline = Date.now() + inputs.releaseWaitMs;
    let pause = POLL_MS;
    const wait = async (left) => {
        await (0,src_retry/* delay */.cb)(Math.min(pause, left), deps.signal);
        pause = Math.min(POLL_MAX_MS, pause * 1.5);
    };
    let release;
    for (;;) {
        (0,errors/* throwIfCancelled */.dZ)(deps.signal);
        const left = deadline - Date.now();
        try {
            release ??= await github.release(); // found once, its ID stays
        }
        catch (error) {
            // `release: published` can fire before a release is visible by tag everywhere.
            if (!(error instanceof errors/* InputError */.dz && error.input === 'release') || left <= 0)
                throw error;
            deps.logger.info(`Release ${ref.tag} is not visible yet; looking again (${seconds(left)} left).`);
            await wait(left);
            continue;
        }
        const assets = await github.assets(release.id);
        const selection = selectAssets(assets, inputs.patterns);
        const waitingFor = [
            ...selection.unmatched.map(p => `a match for '${p}'`),
            ...selection.pending.map(a => `${a.name} (${a.state})`)
        ];
        if (waitingFor.length === 0)
            return selection;
        if (left <= 0) {
            if (selection.pending.length) {
                throw new errors/* InputError */.dz('release-wait', `release ${ref.tag} still has asset(s) being uploaded: ` +
                    `${selection.pending.map(a => `${a.name} (state ${a.state})`).join(', ')}. ` +
                    `${inputs.releaseWaitMs ? `Waited ${seconds(inputs.releaseWaitMs)}; raise it` : 'Set it (e.g. 10m)'} ` +
                    "so the run waits for the release's uploads to finish.");
            }
            return selection;
        }
        deps.logger.info(`Waiting for ${waitingFor.join(', ')} in release ${ref.tag} (${seconds(left)} left).`);
        await wait(left);
    }
}
/** Names from the `name` template over asset names; checked like local files. */
async function planAssets(assets, inputs) {
    const problems = [];
    const byName = new Map();
    const files = [];
    for (const asset of assets) {
        const name = (0,names/* renderName */.gU)(inputs.nameTemplate, asset.name, inputs.version);
        const clash = (0,names/* claimName */.cB)(name, asset.name, byName, 'Use a `name` template that tells them apart.');
        if (clash)
            problems.push(clash);
        else {
            files.push({
                path: '',
                relativePath: asset.name,
                name,
                size: asset.size,
                mimeType: await (0,plan/* mimeTypeOf */.MR)(name, asset.name),
                sha256: digestHex(asset.digest) ?? undefined
            });
        }
    }
    if (problems.length) {
        throw new errors/* PlanError */.W6(`${problems.length} release asset(s) cannot be published:\n  - ${problems.join('\n  - ')}`);
    }
    return files;
}
/** Downloads `needed` (a bounded pool), each verified; every failure is reported together. */
async function download(github, needed, assets, partSize, deps) {
    const dir = await (0,promises_.mkdtemp)((0,external_node_path_.join)(deps.tempRoot, 'polar-release-'));
    const total = needed.reduce((sum, f) => sum + f.size, 0);
    deps.logger.info(`Downloading ${needed.length} release asset(s), ${(0,units/* formatBytes */.z3)(total)}.`);
    const byName = new Map(assets.map(a => [a.name, a]));
    const results = await (0,limiter/* mapSettled */.A)(needed, DOWNLOAD_CONCURRENCY, async (file) => {
        const parts = (0,upload_parts/* layoutParts */.db)(file.size, (0,upload_parts/* effectivePartSize */.MG)(file.size, partSize));
        const got = await downloadAsset(byName.get(file.relativePath), dir, parts, {
            ...deps,
            github
        });
        file.path = got.path;
        file.sha256 = got.hashes.sha256Hex;
        file.hashes = got.hashes;
    });
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`${needed[i].relativePath}: ${(0,errors/* errorMessage */.gJ)(r.reason)}`] : []);
    if (failed.length) {
        throw new errors/* PlanError */.W6(`${failed.length} release asset(s) could not be downloaded; nothing was published:\n  - ${failed.join('\n  - ')}`);
    }
}
function seconds(ms) {
    return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.ceil(ms / 1000)} s`;
}


/***/ })

};
