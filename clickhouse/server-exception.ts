/**
 * ClickHouse-style failures of the local server: the body text clickhouse-server writes
 * (`Code: N. DB::Exception: <message>. (NAME) (version …)`) and the HTTP status it picks for
 * the code, so clients written against the local server behave the same against a real one.
 */
import { ErrorCode, type ErrorCodeName } from "./error-codes";

const codeNames = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

export class ServerException extends Error {
  override name = "ServerException";
  constructor(
    readonly code: number,
    message: string,
    /** Set when the HTTP status differs from the code's usual one (e.g. 413 before parsing). */
    readonly httpStatus: number = statusForCode(code),
  ) {
    super(message);
  }

  static of(name: ErrorCodeName, message: string, httpStatus?: number): ServerException {
    return new ServerException(ErrorCode[name], message, httpStatus);
  }

  /** Body text in clickhouse-server's format; engine messages already carry `Code:` and `(NAME)`. */
  body(version: string): string {
    const text = this.message.startsWith("Code: ")
      ? this.message
      : `Code: ${this.code}. DB::Exception: ${this.message}. (${codeNames.get(this.code) ?? "STD_EXCEPTION"})`;
    return `${text} (version ${version})\n`;
  }
}

const BAD_REQUEST = new Set<number>([
  ErrorCode.BAD_ARGUMENTS,
  ErrorCode.CANNOT_PARSE_TEXT,
  ErrorCode.CANNOT_PARSE_ESCAPE_SEQUENCE,
  ErrorCode.CANNOT_PARSE_QUOTED_STRING,
  ErrorCode.CANNOT_PARSE_DATE,
  ErrorCode.CANNOT_PARSE_DATETIME,
  ErrorCode.CANNOT_PARSE_NUMBER,
  ErrorCode.CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING,
  ErrorCode.CANNOT_PARSE_IPV4,
  ErrorCode.CANNOT_PARSE_IPV6,
  ErrorCode.CANNOT_PARSE_INPUT_ASSERTION_FAILED,
  ErrorCode.CANNOT_PARSE_UUID,
  ErrorCode.DUPLICATE_COLUMN,
  ErrorCode.ILLEGAL_COLUMN,
  ErrorCode.UNKNOWN_ELEMENT_IN_AST,
  ErrorCode.THERE_IS_NO_COLUMN,
  ErrorCode.SYNTAX_ERROR,
  ErrorCode.INCORRECT_DATA,
  ErrorCode.TYPE_MISMATCH,
  ErrorCode.VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
]);

const NOT_FOUND = new Set<number>([
  ErrorCode.UNKNOWN_TABLE,
  ErrorCode.UNKNOWN_FUNCTION,
  ErrorCode.UNKNOWN_IDENTIFIER,
  ErrorCode.UNKNOWN_TYPE,
  ErrorCode.UNKNOWN_DATABASE,
  ErrorCode.UNKNOWN_SETTING,
  ErrorCode.UNKNOWN_FORMAT,
]);

/** The same mapping as clickhouse-server's exceptionCodeToHTTPStatus (READONLY stays 500 there too). */
export function statusForCode(code: number): number {
  if (code === ErrorCode.REQUIRED_PASSWORD) return 401;
  if (code === ErrorCode.UNKNOWN_USER || code === ErrorCode.WRONG_PASSWORD || code === ErrorCode.AUTHENTICATION_FAILED)
    return 403;
  if (BAD_REQUEST.has(code)) return 400;
  if (NOT_FOUND.has(code)) return 404;
  if (code === ErrorCode.QUERY_IS_TOO_LARGE) return 413;
  if (code === ErrorCode.NOT_IMPLEMENTED) return 501;
  if (code === ErrorCode.SOCKET_TIMEOUT || code === ErrorCode.CANNOT_SCHEDULE_TASK) return 503;
  if (code === ErrorCode.HTTP_LENGTH_REQUIRED) return 411;
  if (code === ErrorCode.TIMEOUT_EXCEEDED) return 408;
  if (code === ErrorCode.UNSUPPORTED_MEDIA_TYPE) return 415;
  return 500;
}
