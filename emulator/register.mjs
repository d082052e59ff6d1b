// `npm run emulator` runs `node --import ./emulator/register.mjs emulator/cli.ts`:
// this registers tsx's ESM loader so Node can run the TypeScript sources directly.
import { register } from 'tsx/esm/api'

register()
