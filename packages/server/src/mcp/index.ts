export {
  createBastionMcpServer,
  SanitizeRequest,
  SanitizeResult,
  RUN_TASK_DESCRIPTION,
  type McpServerOptions,
  type TextSanitizer,
} from './mcp-server';
