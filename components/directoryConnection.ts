import * as pulumi from "@pulumi/pulumi";
import type { CallerRole } from "../providers/credentials";
import { ConnectPreconditions, TenantConnection } from "../providers/tenantConnection";
import { RESOURCE_TYPES } from "./types";

export interface DirectoryConnectionArgs {
  /** Organization name. */
  readonly organization: pulumi.Input<string>;
  /** Target tenant GUID. */
  readonly tenantId: pulumi.Input<string>;
  /** Who connects: the organization owner at that moment (`temporaryOwner` on the temporary-owner path). */
  readonly role: pulumi.Input<CallerRole>;
  /** Deleting disconnects; default false (the organization stays connected). */
  readonly allowDisconnect?: pulumi.Input<boolean>;
  /** What the plan saw, checked again by the provider right before the connect call. */
  readonly preconditions?: pulumi.Input<ConnectPreconditions>;
  /** Resources that must exist first: the guests, the temporary owner's ownership. */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Verification of the new tenant after connecting; defaults of the provider when unset. */
  readonly verifyAttempts?: number;
  readonly verifyIntervalMs?: number;
}

/**
 * The organization-to-tenant connection, protected: a `pulumi destroy` or a program change cannot
 * remove it without an explicit `pulumi state unprotect`. The provider verifies after connecting
 * that the organization reports the target tenant.
 */
export class DirectoryConnection extends pulumi.ComponentResource {
  public readonly tenantId: pulumi.Output<string>;
  public readonly verifiedAt: pulumi.Output<string>;
  public readonly connection: TenantConnection;

  constructor(name: string, args: DirectoryConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(RESOURCE_TYPES.directoryConnection, name, {}, opts);
    this.connection = new TenantConnection(
      `${name}-connection`,
      {
        organization: args.organization,
        tenantId: args.tenantId,
        role: args.role,
        allowDisconnect: args.allowDisconnect ?? false,
        ...(args.preconditions !== undefined ? { preconditions: args.preconditions } : {}),
        ...(args.verifyAttempts !== undefined ? { verifyAttempts: args.verifyAttempts } : {}),
        ...(args.verifyIntervalMs !== undefined ? { verifyIntervalMs: args.verifyIntervalMs } : {}),
      },
      { parent: this, protect: true, ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}) },
    );
    this.tenantId = this.connection.tenantId;
    this.verifiedAt = this.connection.verifiedAt;
    this.registerOutputs({ tenantId: this.tenantId, verifiedAt: this.verifiedAt });
  }
}
