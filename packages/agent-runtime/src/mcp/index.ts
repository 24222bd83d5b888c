export { createBastionMcpServer, SanitizeRequest, type McpServerOptions, type TextSanitizer } from './mcp-server';
