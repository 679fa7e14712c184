-- The BATCH fast path (PROTOCOL §5a; wanxin/bank/batch.py): a run of consecutive
-- USER_PRE_TRANSACTION items, TRANSFER items from a customer to a platform account (out
-- of a freeze, or plain from the available balance: the fee runs' transfers) and
-- CONFIRM_REPAYMENT items, each already claimed (its bank_bankrequest row exists, PROCESSING),
-- executed in list order in ONE round trip.
--
-- Each item runs in its own labelled block with exactly the checks, codes, messages, rows and
-- stored response of handlers.user_pre_transaction / handlers.transfer /
-- handlers.confirm_repayment (tests/test_batch.py and tests/test_batch_repayments.py compare
-- them with requests sent alone). A freeze's or a transfer's refusals all come before its
-- first write (the conditional UPDATE of the customer's balance, which writes nothing when it
-- refuses), so a refusal just leaves the block (EXIT item) with nothing to undo: no
-- subtransaction per item. A subtransaction per item cost a subxid each (over 64 of them
-- overflow every other backend's snapshot cache) and turned the customer rows the batch had
-- locked FOR UPDATE into MultiXacts on UPDATE (docs/benchmarks.md, BATCH profile). A
-- CONFIRM_REPAYMENT can refuse after writes, so it alone keeps its BEGIN … EXCEPTION block.
-- Any other error aborts the whole batch (00001, nothing recorded: the platform retries).
-- The no-overdraft rule stays in the conditional UPDATEs and the CHECK constraints;
-- each balance change writes its BalanceChange row in the same statement. The
-- platform-account credit of a post is NOT applied here: it is returned ("c": [account id,
-- amount]) for the caller to apply with the batch's other platform-account credits, one
-- history row per item, just before COMMIT (hot rows locked briefly).
--
-- Changing this file needs a new migration that runs it again (0004 read it once; 0005 the
-- plain transfers; 0006 the repayments; 0007 no subtransaction per freeze or transfer, one
-- UPDATE of the items' request rows per call; 0008 the borrower listed as an investor).
CREATE OR REPLACE FUNCTION bank_batch_items(p_platform text, p_items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    it jsonb; d jsonb; outs jsonb[] := '{}'; v_resp jsonb; fields jsonb; credit jsonb;
    v_id bigint; v_rn text; v_amount bigint; v_code text; v_msg text; v_ok boolean;
    v_biz text; v_user text; v_cp text; v_now timestamptz; v_project text;
    acc record; v_payee_id bigint; v_payee_no text; prj record; frz record; v_after bigint;
    rfz record; chg record; v_commission bigint; v_share bigint; v_posted bigint; v_income bigint; v_missing text;
    a_id bigint[] := '{}'; a_ok boolean[] := '{}'; a_code text[] := '{}'; a_resp jsonb[] := '{}';
    a_at timestamptz[] := '{}'; a_biz text[] := '{}'; a_user text[] := '{}'; a_cp text[] := '{}';
    a_amount bigint[] := '{}'; a_commission bigint[] := '{}';
BEGIN
    FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_id := (it->>'id')::bigint; v_rn := it->>'rn'; d := it->'data';
        v_amount := (d->>'amount')::bigint; v_now := clock_timestamp();
        v_code := '00000'; v_msg := 'success'; credit := NULL; v_commission := 0;
        <<item>>
        BEGIN
            IF it->>'svc' = 'USER_PRE_TRANSACTION' THEN
                v_project := coalesce(d->>'projectNo', '');
                SELECT id, kind, status, account_no, auth_list INTO acc FROM bank_account
                 WHERE platform_no = p_platform AND account_no = d->>'userNo';
                IF NOT FOUND OR acc.kind <> 'CUSTOMER' OR acc.status <> 'OPEN' THEN
                    v_code := '30001'; v_msg := 'no open account for ' || (d->>'userNo'); EXIT item;
                END IF;
                IF NOT acc.auth_list ? (d->>'bizType') THEN
                    v_code := '30002'; v_msg := (d->>'bizType') || ' is not authorised by ' || acc.account_no; EXIT item;
                END IF;
                IF d->>'bizType' IN ('TENDER', 'REPAYMENT') THEN
                    SELECT status, borrower_id INTO prj FROM bank_project
                     WHERE platform_no = p_platform AND project_no = v_project;
                    IF NOT FOUND THEN
                        v_code := '30020'; v_msg := 'project ' || v_project || ' not found'; EXIT item;
                    END IF;
                    IF d->>'bizType' = 'TENDER' THEN
                        IF prj.status <> 'COLLECTING' THEN
                            v_code := '30020'; v_msg := 'project is ' || prj.status || ', not COLLECTING'; EXIT item;
                        END IF;
                        IF prj.borrower_id = acc.id THEN
                            v_code := '30020'; v_msg := 'a borrower cannot invest in their own project'; EXIT item;
                        END IF;
                    ELSIF prj.status <> 'REPAYING' OR prj.borrower_id <> acc.id THEN
                        v_code := '30020'; v_msg := 'repayment needs the borrower of a REPAYING project'; EXIT item;
                    END IF;
                END IF;
                -- The item's writes in one statement, all hanging on the conditional UPDATE: a refusal writes nothing.
                WITH u AS (UPDATE bank_account SET available = available - v_amount, frozen = frozen + v_amount
                            WHERE id = acc.id AND available - v_amount >= 0 RETURNING id, available, frozen),
                     f AS (INSERT INTO bank_freeze (request_id, account_id, biz_type, project_no, amount, remaining,
                                                    status, created_at)
                           SELECT v_id, id, d->>'bizType', v_project, v_amount, v_amount, 'FROZEN', v_now FROM u)
                INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                available_after, frozen_after, created_at)
                SELECT id, v_id, -v_amount, v_amount, available, frozen, v_now FROM u RETURNING id INTO v_after;
                IF v_after IS NULL THEN
                    v_code := '30042'; v_msg := 'insufficient available balance'; EXIT item;
                END IF;
                v_user := acc.account_no;
                fields := jsonb_build_object('userNo', v_user, 'amount', v_amount, 'frozen', v_amount);
                v_biz := d->>'bizType'; v_cp := v_project;
            ELSIF it->>'svc' = 'CONFIRM_REPAYMENT' THEN
                BEGIN  -- it can refuse after writes: this item alone runs in a subtransaction (body not indented)
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
                EXCEPTION WHEN SQLSTATE 'WX001' THEN
                    GET STACKED DIAGNOSTICS v_code = MESSAGE_TEXT, v_msg = PG_EXCEPTION_DETAIL;
                END;
            ELSE  -- TRANSFER, out of a freeze or plain: a customer payer, a platform payee (batch._fast)
                SELECT id, kind, status, account_no, auth_list INTO acc FROM bank_account
                 WHERE platform_no = p_platform AND account_no = d->>'payer';
                IF NOT FOUND OR acc.kind <> 'CUSTOMER' OR acc.status <> 'OPEN' THEN
                    v_code := '30001'; v_msg := 'no open account for ' || (d->>'payer'); EXIT item;
                END IF;
                IF v_payee_no IS DISTINCT FROM d->>'payee' THEN  -- a run pays few platform accounts: looked up once
                    SELECT id, account_no INTO STRICT v_payee_id, v_payee_no FROM bank_account  -- created by the caller
                     WHERE platform_no = p_platform AND account_no = d->>'payee';
                END IF;
                IF NOT acc.auth_list ? (d->>'bizType') THEN
                    v_code := '30002'; v_msg := (d->>'bizType') || ' is not authorised by ' || acc.account_no; EXIT item;
                END IF;
                IF d ? 'preRequestNo' THEN
                    SELECT f.id, f.account_id, f.biz_type, f.remaining, f.status INTO frz
                      FROM bank_freeze f JOIN bank_bankrequest r ON r.id = f.request_id
                     WHERE r.platform_no = p_platform AND r.request_no = d->>'preRequestNo' FOR UPDATE OF f;
                    IF NOT FOUND OR frz.status <> 'FROZEN' THEN
                        v_code := '30010'; v_msg := 'pre-transaction ' || (d->>'preRequestNo') || ' is not frozen'; EXIT item;
                    END IF;
                    IF frz.account_id <> acc.id THEN
                        v_code := '30010'; v_msg := 'the pre-transaction belongs to another customer'; EXIT item;
                    END IF;
                    IF frz.biz_type <> 'ALLOCATION' THEN
                        v_code := '30010'; v_msg := 'a ' || frz.biz_type || ' freeze cannot pay a TRANSFER'; EXIT item;
                    END IF;
                    IF frz.remaining < v_amount THEN
                        v_code := '30011'; v_msg := 'only ' || frz.remaining || ' remains frozen'; EXIT item;
                    END IF;
                    -- The item's writes in one statement, all hanging on the conditional UPDATE.
                    v_after := NULL;
                    WITH u AS (UPDATE bank_account SET frozen = frozen - v_amount
                                WHERE id = acc.id AND frozen - v_amount >= 0 RETURNING id, available, frozen),
                         z AS (UPDATE bank_freeze SET remaining = remaining - v_amount,
                                      status = CASE WHEN remaining = v_amount THEN 'POSTED' ELSE 'FROZEN' END
                                WHERE id = frz.id AND EXISTS (SELECT FROM u)),
                         t AS (INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)
                               SELECT v_id, id, v_payee_id, v_amount, frz.id, v_now FROM u)
                    INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                    available_after, frozen_after, created_at)
                    SELECT id, v_id, 0, -v_amount, available, frozen, v_now FROM u RETURNING id INTO v_after;
                    IF v_after IS NULL THEN
                        v_code := '30042'; v_msg := 'insufficient available balance'; EXIT item;
                    END IF;
                ELSE  -- a plain TRANSFER: the customer's available balance to the platform account
                    v_after := NULL;
                    WITH u AS (UPDATE bank_account SET available = available - v_amount
                                WHERE id = acc.id AND available - v_amount >= 0 RETURNING id, available, frozen),
                         t AS (INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at)
                               SELECT v_id, id, v_payee_id, v_amount, NULL, v_now FROM u)
                    INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen,
                                                    available_after, frozen_after, created_at)
                    SELECT id, v_id, -v_amount, 0, available, frozen, v_now FROM u RETURNING id INTO v_after;
                    IF v_after IS NULL THEN
                        v_code := '30042'; v_msg := 'insufficient available balance'; EXIT item;
                    END IF;
                END IF;
                v_user := acc.account_no;
                credit := jsonb_build_array(v_payee_id, v_amount);
                fields := jsonb_build_object('payer', v_user, 'payee', v_payee_no, 'amount', v_amount);
                v_biz := d->>'bizType'; v_cp := v_payee_no;
            END IF;
        END item;
        IF v_code <> '00000' THEN fields := '{}'::jsonb; credit := NULL; END IF;
        v_ok := v_code = '00000';
        v_resp := jsonb_build_object('requestNo', v_rn, 'respCode', v_code, 'respMsg', v_msg,
                                       'status', CASE WHEN v_ok THEN 'SUCCESS' ELSE 'FAIL' END) || fields;
        -- The item's row is finished by one UPDATE after the loop (expanded arrays: O(1) appends).
        a_id := a_id || v_id; a_ok := a_ok || v_ok; a_code := a_code || v_code; a_resp := a_resp || v_resp;
        a_at := a_at || clock_timestamp(); a_biz := a_biz || CASE WHEN v_ok THEN v_biz ELSE '' END;
        a_user := a_user || CASE WHEN v_ok THEN v_user ELSE '' END; a_cp := a_cp || CASE WHEN v_ok THEN v_cp ELSE '' END;
        a_amount := a_amount || CASE WHEN v_ok THEN v_amount END;
        a_commission := a_commission || CASE WHEN v_ok THEN v_commission END;
        outs := outs || jsonb_build_object('r', v_resp, 'c', credit);
    END LOOP;
    UPDATE bank_bankrequest r
       SET status = CASE WHEN u.ok THEN 'SUCCESS' ELSE 'FAIL' END, resp_code = u.code, response = u.resp,
           finished_at = u.at, biz_type = u.biz, user_no = u.usr, counterparty = u.cp, amount = u.amount,
           commission = u.commission, moved_money = u.ok
      FROM unnest(a_id, a_ok, a_code, a_resp, a_at, a_biz, a_user, a_cp, a_amount, a_commission)
           AS u(id, ok, code, resp, at, biz, usr, cp, amount, commission)
     WHERE r.id = u.id;
    RETURN to_jsonb(outs);
END
$fn$;
