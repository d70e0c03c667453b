/**
 * The emulated tenant as the azuread stand-in reaches it: the emulator's control API, since each
 * `pulumi` command starts a new plugin process and the tenant must outlive it.
 */
import { objectIdOf, type TenantUser } from "../../emulator/world";
import { snapshotStore, type TenantSnapshot, type TenantStore } from "../../support/entraGraph";
import { control, messageOf, readWorld } from "./common";

async function snapshot(): Promise<TenantSnapshot> {
  return (await readWorld()).tenant;
}

/** One control call that must succeed with `expected`; else the emulator's message. */
async function expect(
  what: string,
  expected: number,
  call: Promise<{ status: number; body: unknown }>,
): Promise<void> {
  const res = await call;
  if (res.status !== expected) {
    throw new Error(`${what}: HTTP ${res.status} ${messageOf(res.body)}`);
  }
}

/** The raw user with this object id, with the id written out (so that a re-add keeps it). */
async function userById(objectId: string): Promise<TenantUser> {
  const t = await snapshot();
  const user = t.users.find((u) => objectIdOf(u, t.id) === objectId.toLowerCase());
  if (user === undefined) throw new Error(`no tenant user has the object id ${objectId}`);
  return { ...user, objectId: objectIdOf(user, t.id) };
}

const removeByUpn = (upn: string): Promise<void> =>
  expect(
    `deleting tenant user ${upn}`,
    204,
    control("DELETE", `tenant/users/${encodeURIComponent(upn)}`),
  );

const add = (user: TenantUser): Promise<void> =>
  expect(
    `adding tenant user ${user.userPrincipalName}`,
    201,
    control("POST", "tenant/users", user),
  );

/** The emulator's tenant behind Graph's user and invitation endpoints. */
export function controlTenantStore(): TenantStore {
  return snapshotStore(snapshot, {
    add,
    // rule Z31 [deviates] Graph's PATCH is one atomic write; the emulator's control API has no user update, so the stand-in removes the user and adds it back changed (same object id): for that moment a concurrent reader misses the user, and it moves to the end of the tenant's list
    async patch(objectId, fields) {
      const user = await userById(objectId);
      await removeByUpn(user.userPrincipalName);
      await add({ ...user, ...fields });
    },
    async remove(objectId) {
      await removeByUpn((await userById(objectId)).userPrincipalName);
    },
  });
}
