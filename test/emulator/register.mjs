// `npm run emulator` runs `node --import ./test/emulator/register.mjs test/emulator/cli.ts`:
// this registers tsx's ESM loader so Node can run the TypeScript sources directly.
import { register } from 'tsx/esm/api'

register()
