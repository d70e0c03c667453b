/**
 * Entry of the azuread provider plugin stand-in (`bin/pulumi-resource-azuread` runs it): serves
 * {@link azureadProvider} over the engine's gRPC protocol. The provider itself lives in
 * `azureadProvider.ts`, which tests also call directly, without gRPC.
 */
import * as provider from "@pulumi/pulumi/provider";
import { azureadProvider } from "./azureadProvider";

void provider.main(azureadProvider, process.argv.slice(2));
