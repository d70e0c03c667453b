/**
 * Entry of the random provider plugin stand-in (`bin/pulumi-resource-random` runs it): serves
 * {@link randomProvider} over the engine's gRPC protocol.
 */
import * as provider from "@pulumi/pulumi/provider";
import { randomProvider } from "./randomProvider";

void provider.main(randomProvider, process.argv.slice(2));
