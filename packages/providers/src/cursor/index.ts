export {
  createCursorProvider,
  cursorRegistration,
  CursorProviderOptions,
  CURSOR_PROVIDER_ID,
  CURSOR_DOMAINS,
  CURSOR_API_KEY_SECRET,
} from './cursor-provider';
export { CURSOR_MANIFEST, CURSOR_AGENT_MOUNT } from './cursor-manifest';
export { parseCursorOutput, readCursorEvents, cursorToolPathEscapes, classifyCursorFailure } from './cursor-output';
