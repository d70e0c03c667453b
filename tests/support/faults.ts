/**
 * The answer Azure DevOps gives when it refuses an entitlement operation: HTTP 200 with
 * `isSuccess:false` and the errors in `operationResult` (docs/azure-devops-apis.md#refused-operations). For fault injection.
 */
export function refusedOperation(key: string, value: string): Record<string, unknown> {
  return { isSuccess: false, operationResult: { isSuccess: false, errors: [{ key, value }] } };
}
