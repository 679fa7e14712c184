-- A measuring prototype, not the product's path: USER_PRE_TRANSACTION (a freeze) as one
-- server-side function, so that a request costs the bank one round trip and one implicit
-- transaction. It does what wanxin.bank does for a freeze, with the same statements and
-- guarantees: the requestNo claim under the unique constraint (a replay returns the stored
-- response, another digest is 00006), the open-account and authorisation checks, the
-- conditional UPDATE that refuses to overdraw (CHECK constraints behind it), the history row
-- written under the row lock, the Freeze row, and the stored response. benchmarks/ledger.py
-- installs it in its own bank database only, to measure the ceiling of that design (the
-- "ceiling" phase); docs/benchmarks.md reports it.
CREATE OR REPLACE FUNCTION bench_freeze_in_one_call(
    p_platform text, p_request_no text, p_digest text, p_req jsonb,
    p_user text, p_biz text, p_amount bigint
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    rid bigint;
    acc record;
    bal record;
    code text := '00000';
    msg text := 'success';
    resp jsonb;
    ts timestamptz := now();
BEGIN
    INSERT INTO bank_bankrequest (platform_no, request_no, service_name, digest, req_data, status,
                                  resp_code, biz_type, user_no, counterparty, moved_money, created_at)
    VALUES (p_platform, p_request_no, 'USER_PRE_TRANSACTION', p_digest, p_req, 'PROCESSING',
            '', '', '', '', false, ts)
    ON CONFLICT (platform_no, request_no) DO NOTHING
    RETURNING id INTO rid;
    IF rid IS NULL THEN  -- a replay: waited for the first writer, answer as it did
        SELECT digest, response INTO acc FROM bank_bankrequest
        WHERE platform_no = p_platform AND request_no = p_request_no;
        IF acc.digest <> p_digest THEN
            RETURN jsonb_build_object('requestNo', p_request_no, 'respCode', '00006',
                                      'respMsg', 'requestNo reused with different data', 'status', 'FAIL');
        END IF;
        RETURN acc.response;
    END IF;

    SELECT id, kind, status, auth_list INTO acc FROM bank_account
    WHERE platform_no = p_platform AND account_no = p_user;
    IF acc.id IS NULL OR acc.kind <> 'CUSTOMER' OR acc.status <> 'OPEN' THEN
        code := '30001'; msg := 'no open account for ' || p_user;
    ELSIF NOT acc.auth_list ? p_biz THEN
        code := '30002'; msg := p_biz || ' is not authorised by ' || p_user;
    ELSE
        UPDATE bank_account SET available = available - p_amount, frozen = frozen + p_amount
        WHERE id = acc.id AND available - p_amount >= 0
        RETURNING available, frozen INTO bal;
        IF NOT FOUND THEN
            code := '30042'; msg := 'insufficient available balance';
        ELSE
            INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                            available_after, frozen_after, created_at)
            VALUES (acc.id, rid, -p_amount, p_amount, bal.available, bal.frozen, ts);
            INSERT INTO bank_freeze (request_id, account_id, biz_type, project_no, amount, remaining,
                                     status, created_at)
            VALUES (rid, acc.id, p_biz, '', p_amount, p_amount, 'FROZEN', ts);
        END IF;
    END IF;

    resp := jsonb_build_object('requestNo', p_request_no, 'respCode', code, 'respMsg', msg,
                               'status', CASE WHEN code = '00000' THEN 'SUCCESS' ELSE 'FAIL' END);
    IF code = '00000' THEN
        resp := resp || jsonb_build_object('userNo', p_user, 'amount', p_amount, 'frozen', p_amount);
    END IF;
    UPDATE bank_bankrequest SET status = resp->>'status', resp_code = code, response = resp,
        finished_at = ts, biz_type = p_biz, user_no = p_user, amount = p_amount, commission = 0,
        moved_money = (code = '00000')
    WHERE id = rid;
    RETURN resp;
END
$$;
