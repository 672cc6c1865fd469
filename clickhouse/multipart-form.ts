/**
 * `multipart/form-data` request bodies, as clickhouse-js sends them when query parameters
 * are too long for a URL (`use_multipart_params`): each field (`query`, `param_<name>`, a
 * setting) counts as a URL parameter of the same name, as on clickhouse-server. File parts
 * (external tables) are refused: the local server has no external-table support.
 */
import { ServerException } from "./server-exception";

export function isMultipartForm(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().startsWith("multipart/form-data") ?? false;
}

export function parseMultipartForm(contentType: string, body: Buffer): Array<[string, string]> {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (marker === undefined) throw ServerException.of("BAD_ARGUMENTS", "multipart/form-data request without a boundary");
  const delimiter = Buffer.from(`--${marker}`);
  const fields: Array<[string, string]> = [];
  let position = body.indexOf(delimiter);
  if (position < 0) throw ServerException.of("BAD_ARGUMENTS", "multipart/form-data body does not contain its boundary");
  while (true) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString("latin1") === "--") return fields;
    if (body.subarray(position, position + 2).toString("latin1") === "\r\n") position += 2;
    const next = body.indexOf(delimiter, position);
    if (next < 0)
      throw ServerException.of("BAD_ARGUMENTS", "multipart/form-data body ends without its closing boundary");
    // The part ends with the CRLF that precedes the next delimiter.
    const part = body.subarray(position, body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) throw ServerException.of("BAD_ARGUMENTS", "multipart/form-data part without headers");
    const headers = part.subarray(0, headerEnd).toString("utf8");
    const disposition = /^content-disposition:\s*form-data;(.*)$/im.exec(headers)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw ServerException.of("BAD_ARGUMENTS", "multipart/form-data part without a name");
    if (/\bfilename=/i.test(disposition)) {
      throw ServerException.of(
        "NOT_IMPLEMENTED",
        `External tables (file part '${name}') are not supported by the local server`,
      );
    }
    fields.push([name, part.subarray(headerEnd + 4).toString("utf8")]);
    position = next;
  }
}
