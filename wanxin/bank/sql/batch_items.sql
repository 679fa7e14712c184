-- The BATCH fast path (PROTOCOL §5a; wanxin/bank/batch.py): a run of consecutive
-- USER_PRE_TRANSACTION items, TRANSFER items from a customer to a platform account (out
-- of a freeze, or plain from the available balance: the fee runs' transfers) and
-- CONFIRM_REPAYMENT items, each already claimed (its bank_bankrequest row exists, PROCESSING),
-- executed in list order in ONE round trip.
--
-- Each item runs in its own BEGIN … EXCEPTION block (a subtransaction: a refusal undoes that
-- item only), with exactly the checks, codes, messages, rows and stored response of
-- handlers.user_pre_transaction / handlers.transfer / handlers.confirm_repayment
-- (tests/test_batch.py and tests/test_batch_repayments.py compare them with requests sent
-- alone). The no-overdraft rule stays in the conditional UPDATEs and the CHECK constraints;
-- each balance change writes its BalanceChange row in the same statement. The
-- platform-account credit of a post is NOT applied here: it is returned ("c": [account id,
-- amount]) for the caller to apply with the batch's other platform-account credits, one
-- history row per item, just before COMMIT (hot rows locked briefly).
--
-- Changing this file needs a new migration that runs it again (0004 read it once; 0005 the
-- plain transfers; 0006 the repayments; 0007 the borrower listed as an investor).
CREATE OR REPLACE FUNCTION bank_batch_items(p_platform text, p_items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    it jsonb; d jsonb; outs jsonb[] := '{}'; v_resp jsonb; fields jsonb; credit jsonb;
    v_id bigint; v_rn text; v_amount bigint; v_code text; v_msg text; v_ok boolean;
    v_biz text; v_user text; v_cp text; v_now timestamptz; v_project text;
    acc record; payee record; prj record; frz record; v_after bigint;
    rfz record; chg record; v_commission bigint; v_share bigint; v_posted bigint; v_income bigint; v_missing text;
BEGIN
    FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_id := (it->>'id')::bigint; v_rn := it->>'rn'; d := it->'data';
        v_amount := (d->>'amount')::bigint; v_now := clock_timestamp();
        v_code := '00000'; v_msg := 'success'; credit := NULL; v_commission := 0;
        BEGIN
            IF it->>'svc' = 'USER_PRE_TRANSACTION' THEN
                SELECT id, kind, status, account_no, auth_list INTO acc FROM bank_account
                 WHERE platform_no = p_platform AND account_no = d->>'userNo';
                IF NOT FOUND OR acc.kind <> 'CUSTOMER' OR acc.status <> 'OPEN' THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30001', DETAIL = 'no open account for ' || (d->>'userNo');
                END IF;
                IF NOT acc.auth_list ? (d->>'bizType') THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30002',
                        DETAIL = (d->>'bizType') || ' is not authorised by ' || acc.account_no;
                END IF;
                v_project := coalesce(d->>'projectNo', '');
                IF d->>'bizType' IN ('TENDER', 'REPAYMENT') THEN
                    SELECT status, borrower_id INTO prj FROM bank_project
                     WHERE platform_no = p_platform AND project_no = v_project;
                    IF NOT FOUND THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30020', DETAIL = 'project ' || v_project || ' not found';
                    END IF;
                    IF d->>'bizType' = 'TENDER' THEN
                        IF prj.status <> 'COLLECTING' THEN
                            RAISE SQLSTATE 'WX001' USING MESSAGE = '30020',
                                DETAIL = 'project is ' || prj.status || ', not COLLECTING';
                        END IF;
                        IF prj.borrower_id = acc.id THEN
                            RAISE SQLSTATE 'WX001' USING MESSAGE = '30020',
                                DETAIL = 'a borrower cannot invest in their own project';
                        END IF;
                    ELSIF prj.status <> 'REPAYING' OR prj.borrower_id <> acc.id THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30020',
                            DETAIL = 'repayment needs the borrower of a REPAYING project';
                    END IF;
                END IF;
                WITH u AS (UPDATE bank_account SET available = available - v_amount, frozen = frozen + v_amount
                            WHERE id = acc.id AND available - v_amount >= 0 RETURNING id, available, frozen)
                INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                available_after, frozen_after, created_at)
                SELECT id, v_id, -v_amount, v_amount, available, frozen, v_now FROM u RETURNING id INTO v_after;
                IF v_after IS NULL THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30042', DETAIL = 'insufficient available balance';
                END IF;
                INSERT INTO bank_freeze (request_id, account_id, biz_type, project_no, amount, remaining, status,
                                         created_at)
                VALUES (v_id, acc.id, d->>'bizType', v_project, v_amount, v_amount, 'FROZEN', v_now);
                fields := jsonb_build_object('userNo', acc.account_no, 'amount', v_amount, 'frozen', v_amount);
                v_biz := d->>'bizType'; v_user := acc.account_no; v_cp := v_project;
            ELSIF it->>'svc' = 'CONFIRM_REPAYMENT' THEN
                -- handlers.confirm_repayment and Posting.post/apply, step by step.
                SELECT f.id, f.account_id, f.biz_type, f.project_no, f.amount, f.remaining, f.status,
                       a.account_no AS owner_no INTO rfz
                  FROM bank_freeze f JOIN bank_bankrequest r ON r.id = f.request_id
                  JOIN bank_account a ON a.id = f.account_id
                 WHERE r.platform_no = p_platform AND r.request_no = d->>'preRequestNo' FOR UPDATE OF f;
                IF NOT FOUND OR rfz.status <> 'FROZEN' THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30010',
                        DETAIL = 'pre-transaction ' || (d->>'preRequestNo') || ' is not frozen';
                END IF;
                IF rfz.biz_type <> 'REPAYMENT' OR rfz.project_no <> d->>'projectNo' THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30010', DETAIL = 'not a repayment freeze of this project';
                END IF;
                SELECT coalesce(sum((x->>'principal')::bigint + (x->>'interest')::bigint), 0)::bigint
                       + (d->>'commission')::bigint,
                       coalesce(sum((x->>'commission')::bigint), 0)::bigint + (d->>'commission')::bigint,
                       coalesce(sum(greatest((x->>'principal')::bigint + (x->>'interest')::bigint
                                             - (x->>'commission')::bigint, 0)), 0)::bigint
                  INTO v_amount, v_share, v_posted FROM jsonb_array_elements(d->'details') x;
                v_posted := v_posted + v_share;  -- posts of 0 or less are skipped (Posting.post)
                IF v_amount <> rfz.amount OR rfz.remaining <> rfz.amount THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30011',
                        DETAIL = 'details add up to ' || v_amount || ', frozen is ' || rfz.remaining;
                END IF;
                -- accounts.customers: the first missing investor in Python's sort order (code points).
                SELECT s.u INTO v_missing
                  FROM (SELECT DISTINCT x->>'userNo' AS u FROM jsonb_array_elements(d->'details') x) s
                  LEFT JOIN bank_account a ON a.platform_no = p_platform AND a.account_no = s.u
                 WHERE a.id IS NULL OR a.kind <> 'CUSTOMER' OR a.status <> 'OPEN'
                 ORDER BY s.u COLLATE "C" LIMIT 1;
                IF FOUND THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30001', DETAIL = 'no open account for ' || v_missing;
                END IF;
                IF EXISTS (SELECT 1 FROM jsonb_array_elements(d->'details') x WHERE x->>'userNo' = rfz.owner_no) THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30020',
                        DETAIL = 'the borrower of a project cannot be paid as its investor';
                END IF;
                SELECT id INTO STRICT v_income FROM bank_account  -- created by the caller if missing
                 WHERE platform_no = p_platform AND account_no = 'PLATFORM_INCOME';
                UPDATE bank_freeze SET remaining = remaining - v_posted,
                       status = CASE WHEN remaining = v_posted THEN 'POSTED' ELSE 'FROZEN' END
                 WHERE id = rfz.id AND status = 'FROZEN' AND remaining >= v_posted;
                IF NOT FOUND THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30010', DETAIL = 'pre-transaction is no longer frozen';
                END IF;
                -- Transfer rows in posting order: the details', then the platform's share.
                INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)
                SELECT v_id, rfz.account_id, a.id, s.amt, rfz.id, v_now
                  FROM (SELECT n, x->>'userNo' AS u, (x->>'principal')::bigint + (x->>'interest')::bigint
                               - (x->>'commission')::bigint AS amt
                          FROM jsonb_array_elements(d->'details') WITH ORDINALITY AS t(x, n)) s
                  JOIN bank_account a ON a.platform_no = p_platform AND a.account_no = s.u
                 WHERE s.amt > 0 ORDER BY s.n;
                IF v_share > 0 THEN
                    INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)
                    VALUES (v_id, rfz.account_id, v_income, v_share, rfz.id, v_now);
                    credit := jsonb_build_array(v_income, v_share);
                END IF;
                -- Net customer deltas (investors' credits, the borrower's frozen debit), by primary key.
                FOR chg IN
                    SELECT q.k, sum(q.da)::bigint AS da, sum(q.df)::bigint AS df FROM (
                        SELECT a.id AS k, s.amt AS da, 0::bigint AS df
                          FROM (SELECT x->>'userNo' AS u, (x->>'principal')::bigint + (x->>'interest')::bigint
                                       - (x->>'commission')::bigint AS amt
                                  FROM jsonb_array_elements(d->'details') x) s
                          JOIN bank_account a ON a.platform_no = p_platform AND a.account_no = s.u
                         WHERE s.amt > 0
                        UNION ALL SELECT rfz.account_id, 0::bigint, -v_posted) q
                     GROUP BY q.k ORDER BY q.k
                LOOP
                    CONTINUE WHEN chg.da = 0 AND chg.df = 0;
                    v_after := NULL;
                    WITH u AS (UPDATE bank_account SET available = available + chg.da, frozen = frozen + chg.df
                                WHERE id = chg.k AND available + chg.da >= 0 AND frozen + chg.df >= 0
                                RETURNING id, available, frozen)
                    INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                    available_after, frozen_after, created_at)
                    SELECT id, v_id, chg.da, chg.df, available, frozen, v_now FROM u RETURNING id INTO v_after;
                    IF v_after IS NULL THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30042', DETAIL = 'insufficient available balance';
                    END IF;
                END LOOP;
                fields := jsonb_build_object('projectNo', d->>'projectNo', 'amount', v_amount, 'commission', v_share);
                v_biz := 'REPAYMENT'; v_user := rfz.owner_no; v_cp := d->>'projectNo'; v_commission := v_share;
            ELSE  -- TRANSFER, out of a freeze or plain: a customer payer, a platform payee (batch._fast)
                SELECT id, kind, status, account_no, auth_list INTO acc FROM bank_account
                 WHERE platform_no = p_platform AND account_no = d->>'payer';
                IF NOT FOUND OR acc.kind <> 'CUSTOMER' OR acc.status <> 'OPEN' THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30001', DETAIL = 'no open account for ' || (d->>'payer');
                END IF;
                SELECT id, account_no INTO STRICT payee FROM bank_account  -- created by the caller if missing
                 WHERE platform_no = p_platform AND account_no = d->>'payee';
                IF NOT acc.auth_list ? (d->>'bizType') THEN
                    RAISE SQLSTATE 'WX001' USING MESSAGE = '30002',
                        DETAIL = (d->>'bizType') || ' is not authorised by ' || acc.account_no;
                END IF;
                IF d ? 'preRequestNo' THEN
                    SELECT f.id, f.account_id, f.biz_type, f.remaining, f.status INTO frz
                      FROM bank_freeze f JOIN bank_bankrequest r ON r.id = f.request_id
                     WHERE r.platform_no = p_platform AND r.request_no = d->>'preRequestNo' FOR UPDATE OF f;
                    IF NOT FOUND OR frz.status <> 'FROZEN' THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30010',
                            DETAIL = 'pre-transaction ' || (d->>'preRequestNo') || ' is not frozen';
                    END IF;
                    IF frz.account_id <> acc.id THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30010',
                            DETAIL = 'the pre-transaction belongs to another customer';
                    END IF;
                    IF frz.biz_type <> 'ALLOCATION' THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30010',
                            DETAIL = 'a ' || frz.biz_type || ' freeze cannot pay a TRANSFER';
                    END IF;
                    IF frz.remaining < v_amount THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30011', DETAIL = 'only ' || frz.remaining || ' remains frozen';
                    END IF;
                    UPDATE bank_freeze SET remaining = remaining - v_amount,
                           status = CASE WHEN remaining = v_amount THEN 'POSTED' ELSE 'FROZEN' END
                     WHERE id = frz.id;
                    v_after := NULL;
                    WITH u AS (UPDATE bank_account SET frozen = frozen - v_amount
                                WHERE id = acc.id AND frozen - v_amount >= 0 RETURNING id, available, frozen)
                    INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                    available_after, frozen_after, created_at)
                    SELECT id, v_id, 0, -v_amount, available, frozen, v_now FROM u RETURNING id INTO v_after;
                    IF v_after IS NULL THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30042', DETAIL = 'insufficient available balance';
                    END IF;
                    INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)
                    VALUES (v_id, acc.id, payee.id, v_amount, frz.id, v_now);
                ELSE  -- a plain TRANSFER: the customer's available balance to the platform account
                    v_after := NULL;
                    WITH u AS (UPDATE bank_account SET available = available - v_amount
                                WHERE id = acc.id AND available - v_amount >= 0 RETURNING id, available, frozen)
                    INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                    available_after, frozen_after, created_at)
                    SELECT id, v_id, -v_amount, 0, available, frozen, v_now FROM u RETURNING id INTO v_after;
                    IF v_after IS NULL THEN
                        RAISE SQLSTATE 'WX001' USING MESSAGE = '30042', DETAIL = 'insufficient available balance';
                    END IF;
                    INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)
                    VALUES (v_id, acc.id, payee.id, v_amount, NULL, v_now);
                END IF;
                credit := jsonb_build_array(payee.id, v_amount);
                fields := jsonb_build_object('payer', acc.account_no, 'payee', payee.account_no, 'amount', v_amount);
                v_biz := d->>'bizType'; v_user := acc.account_no; v_cp := payee.account_no;
            END IF;
        EXCEPTION WHEN SQLSTATE 'WX001' THEN
            GET STACKED DIAGNOSTICS v_code = MESSAGE_TEXT, v_msg = PG_EXCEPTION_DETAIL;
            fields := '{}'::jsonb; credit := NULL;
        END;
        v_ok := v_code = '00000';
        v_resp := jsonb_build_object('requestNo', v_rn, 'respCode', v_code, 'respMsg', v_msg,
                                       'status', CASE WHEN v_ok THEN 'SUCCESS' ELSE 'FAIL' END) || fields;
        UPDATE bank_bankrequest
           SET status = CASE WHEN v_ok THEN 'SUCCESS' ELSE 'FAIL' END, resp_code = v_code, response = v_resp,
               finished_at = clock_timestamp(), biz_type = CASE WHEN v_ok THEN v_biz ELSE '' END,
               user_no = CASE WHEN v_ok THEN v_user ELSE '' END, counterparty = CASE WHEN v_ok THEN v_cp ELSE '' END,
               amount = CASE WHEN v_ok THEN v_amount END, commission = CASE WHEN v_ok THEN v_commission END, moved_money = v_ok
         WHERE id = v_id;
        outs := outs || jsonb_build_object('r', v_resp, 'c', credit);  -- expanded array: O(1) append
    END LOOP;
    RETURN to_jsonb(outs);
END
$fn$;
