/**
 * The baseline of `npm run bench:engine`: as many trivial resources (`RandomPet`s, served by the
 * random stand-in through the same plugin mechanism as the program's providers) as the migration
 * program declares, so the engine's own cost per resource is measured in the same run.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

const count = new pulumi.Config().requireNumber("count");
for (let i = 0; i < count; i++) new random.RandomPet(`pet-${i}`, { length: 2, separator: "-" });
