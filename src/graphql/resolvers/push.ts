/** Push devices: a person's own, reached with their own user token only. */
import { requireRole } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { MutationResolvers, PushDeviceResolvers, QueryResolvers } from '../generated/resolvers-types.ts';

/** The caller as the owner of devices: a user token (a device belongs to a person). */
function person(ctx: GraphQLContext): string {
  return requireRole(ctx, 'user').subject;
}

export const pushQueries: Pick<QueryResolvers, 'pushDevices' | 'webPushPublicKey'> = {
  pushDevices: (_parent, _args, ctx) => ctx.services.push.devices.list(person(ctx)),
  webPushPublicKey: (_parent, _args, ctx) => ctx.services.push.webPushPublicKey,
};

export const pushMutations: Pick<MutationResolvers, 'registerPushDevice' | 'unregisterPushDevice'> = {
  registerPushDevice(_parent, { input }, ctx) {
    const owner = person(ctx);
    const limit = ctx.services.limits.maxListItems;
    return ctx.services.push.devices.register(owner, { ...input, types: input.types?.slice(0, limit) ?? null }, new Date());
  },
  unregisterPushDevice: (_parent, { id }, ctx) => ctx.services.push.devices.unregister(person(ctx), id),
};

export const PushDevice: PushDeviceResolvers = {
  types: (device) => device.types ?? [],
  deadLetters: async (device, _args, ctx) => (await ctx.services.push.devices.deadLetters([device.id])).get(device.id) ?? 0,
};
