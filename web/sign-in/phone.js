// Phone numbers as people type them ("(206) 555-0100", "+1 206 555 0100", "07400 123456"), turned into
// the one spelling Cognito matches: E.164 ("+12065550100"). Cognito compares USERNAME with the
// user's phone_number as written, so any other spelling finds no user, and this project's triggers
// then answer as for an unknown number: a challenge, and no SMS. So the page normalises, and says what
// is wrong instead of sending what cannot work.
//
// The parsing is libphonenumber-js (its "max" bundle, which checks the digits as Google's
// libphonenumber in the Lambda does), loaded by index.html from the page's own copy
// (libphonenumber-max.js, see local/sign_in_page_vendor.py) as the global `libphonenumber`.

/** The region of the browser's preferred languages ("en-US" -> "US"), the first that has one. */
export function localeRegions(languages) {
  const regions = [];
  for (const tag of languages ?? []) {
    try {
      const region = new Intl.Locale(tag).maximize().region;
      if (region && !regions.includes(region)) regions.push(region);
    } catch {
      /* not a language tag */
    }
  }
  return regions;
}

/**
 * The country a number typed without "+" belongs to: the browser's region when the deployment accepts
 * it, else the only (or first) country it accepts; without a list, the browser's region.
 */
export function defaultCountry(allowedCountries, languages) {
  const regions = localeRegions(languages);
  if (!allowedCountries?.length) return regions[0] ?? null;
  return regions.find((region) => allowedCountries.includes(region)) ?? allowedCountries[0];
}

function countryName(code) {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function listOf(countries) {
  const names = countries.map(countryName);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names[0];
}

/**
 * {number} in E.164, or {hint} saying what to fix. `allowedCountries` (ISO codes) is what the
 * deployment texts; a number of another country gets a hint here rather than no SMS later.
 */
export function toE164(text, { defaultCountry: country = null, allowedCountries = [] } = {}, lib = globalThis.libphonenumber) {
  if (!lib) return { hint: "The phone number library did not load: reload the page." };
  const typed = String(text ?? "").trim();
  const withCode = "Start with + and the country code (for example +44 7400 123456).";
  if (!typed) return { hint: "Enter your phone number." };
  const parsed = lib.parsePhoneNumberFromString(typed, { defaultCountry: country ?? undefined, extract: false });
  if (!parsed) {
    return { hint: /\d/.test(typed) && !typed.startsWith("+") && !country ? withCode : `That is not a phone number. ${withCode}` };
  }
  if (parsed.ext) return { hint: "Leave out the extension: the code goes to the number itself." };
  const where = parsed.country ?? (typed.startsWith("+") ? null : country);
  if (!parsed.isValid()) {
    const length = lib.validatePhoneNumberLength(typed, { defaultCountry: country ?? undefined });
    const reason = length === "TOO_SHORT" ? ": too few digits" : length === "TOO_LONG" ? ": too many digits" : "";
    const kind = where ? `${countryName(where)} number` : "number";
    return { hint: `Not a valid ${kind}${reason}. Check the digits, or ${withCode[0].toLowerCase()}${withCode.slice(1)}` };
  }
  if (allowedCountries.length && !allowedCountries.includes(parsed.country)) {
    return { hint: `Sign-in here is for numbers of ${listOf(allowedCountries)}.` };
  }
  return { number: parsed.number, formatted: parsed.formatInternational() };
}
