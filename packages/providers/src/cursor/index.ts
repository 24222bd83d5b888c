export {
  createCursorProvider,
  CursorProviderOptions,
  CURSOR_PROVIDER_ID,
  CURSOR_DOMAINS,
  CURSOR_AGENT_MOUNT,
  CURSOR_API_KEY_SECRET,
} from './cursor-provider';
export { parseCursorOutput, readCursorEvents, cursorToolPathEscapes, classifyCursorFailure } from './cursor-output';
