export {
  createCursorProvider,
  cursorRegistration,
  CursorProviderOptions,
  CURSOR_PROVIDER_ID,
  CURSOR_DOMAINS,
} from './cursor-provider';
export { CURSOR_MANIFEST, CURSOR_AGENT_MOUNT, CURSOR_API_KEY_SECRET } from './cursor-manifest';
export { parseCursorOutput, readCursorEvents, cursorToolPathEscapes, classifyCursorFailure } from './cursor-output';
