/**
 * `$filter` and `$orderBy` of User Entitlements_Search (memberEntitlementManagement-7.1.json).
 */
import { badRequest } from "./errors";
import { type License, type NormalizedUser, type NormalizedWorld, isOnTenantDomain } from "./world";

/** License ids accepted by the `licenseId` clause of `$filter`. */
const LICENSE_ID: Record<License, string> = {
  express: "Account-Express",
  stakeholder: "Account-Stakeholder",
  advanced: "Account-Advanced",
  none: "Account-None",
};

type Test = (user: NormalizedUser) => boolean;

// rule E3 [doc] $filter takes equality clauses on name (a substring of principal, display name or mail), licenseId ('Account-…'), licenseStatus and userType (memberEntitlementManagement-7.1.json User Entitlements_Search $filter)
function clauseTest(field: string, rawValue: string, view: NormalizedWorld): Test {
  const value = rawValue.toLowerCase();
  switch (field.toLowerCase()) {
    case "name":
      return (u) =>
        [u.principalName, u.displayName, u.mailAddress].some((s) =>
          s.toLowerCase().includes(value),
        );
    case "licenseid":
      return (u) => LICENSE_ID[u.license].toLowerCase() === value;
    case "licensestatus":
      // rule E5 [guess] licenseStatus matches any status (the spec says it "currently only supports disabled"); userType guest is "an address off the tenant's domains", whatever the origin (the service's classification in an MSA-backed organization is unknown)
      return (u) => u.status === value;
    case "usertype":
      if (value !== "member" && value !== "guest") {
        throw badRequest(
          `The $filter value '${rawValue}' of userType is not valid: expected 'member' or 'guest'.`,
        );
      }
      return (u) => isOnTenantDomain(view, u.principalName) === (value === "member");
    default:
      throw badRequest(
        `The $filter field '${field}' is not supported. Valid fields: licenseId, licenseStatus, userType, name.`,
      );
  }
}

/** A recursive-descent parser over the filter text; `or` binds looser than `and`, as in OData. */
class FilterParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly view: NormalizedWorld,
  ) {}

  parse(): Test {
    const test = this.disjunction();
    this.skipSpace();
    if (this.pos < this.text.length) {
      this.fail("'and', 'or' or the end of the filter");
    }
    return test;
  }

  private disjunction(): Test {
    const terms = [this.conjunction()];
    while (this.keyword("or")) terms.push(this.conjunction());
    return terms.length === 1 ? terms[0] : (u) => terms.some((t) => t(u));
  }

  private conjunction(): Test {
    const factors = [this.primary()];
    while (this.keyword("and")) factors.push(this.primary());
    return factors.length === 1 ? factors[0] : (u) => factors.every((t) => t(u));
  }

  private primary(): Test {
    this.skipSpace();
    if (this.text[this.pos] === "(") {
      this.pos++;
      const inner = this.disjunction();
      this.skipSpace();
      if (this.text[this.pos] !== ")") this.fail("')'");
      this.pos++;
      return inner;
    }
    const clause = /([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'/y;
    clause.lastIndex = this.pos;
    const match = clause.exec(this.text);
    if (match === null) this.fail("<field> eq '<value>' or '('");
    this.pos = clause.lastIndex;
    return clauseTest(match[1], match[2].replace(/''/g, "'"), this.view);
  }

  private keyword(word: string): boolean {
    const re = new RegExp(`\\s+${word}\\s+`, "iy");
    re.lastIndex = this.pos;
    if (re.exec(this.text) === null) return false;
    this.pos = re.lastIndex;
    return true;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private fail(expected: string): never {
    throw badRequest(
      `The $filter '${this.text}' cannot be parsed at position ${this.pos}: expected ${expected}.`,
    );
  }
}

// rule E4 [doc] $filter clauses combine with 'and' and 'or' and group with parentheses, e.g. "(licenseId eq 'Account-Express' or (licenseId eq 'Account-Stakeholder')) and name eq 'Joe'" (memberEntitlementManagement-7.1.json User Entitlements_Search $filter example)
export function entitlementFilter(filter: string, view: NormalizedWorld): Test {
  return new FilterParser(filter.trim(), view).parse();
}

// rule E6 [doc] $orderBy takes name, dateCreated or lastAccessed, then asc or desc; anything else is refused 400 (memberEntitlementManagement-7.1.json $orderBy; the 400 is the emulator's)
export function entitlementOrder(
  orderBy: string,
): (a: NormalizedUser, b: NormalizedUser) => number {
  const match = /^\s*(name|dateCreated|lastAccessed)(?:\s+(asc|desc))?\s*$/i.exec(orderBy);
  if (match === null) {
    throw badRequest(
      `The $orderBy '${orderBy}' is not valid. Valid properties: dateCreated, lastAccessed, name; then asc or desc.`,
    );
  }
  const key = (u: NormalizedUser): string => {
    switch (match[1].toLowerCase()) {
      case "name":
        return u.displayName.toLowerCase();
      case "datecreated":
        return new Date(u.dateCreated).toISOString();
      default:
        return u.lastAccessedDate === undefined ? "" : new Date(u.lastAccessedDate).toISOString();
    }
  };
  const sign = match[2]?.toLowerCase() === "desc" ? -1 : 1;
  return (a, b) => sign * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}
