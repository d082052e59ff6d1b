/** Kept equal to package.json's version (a test checks). Sent in the User-Agent. */
export const ACTION_VERSION = '1.0.0'
export const USER_AGENT = `polar-files-action/${ACTION_VERSION} (GitHub Action; node/${process.versions.node})`
